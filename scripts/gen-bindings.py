#!/usr/bin/env python3
"""Regenerates the downcall part of a hand-kept binding class from its C header, in jextract's shape.

  scripts/gen-bindings.py cuda-kernels/include/sbora_cuda.h java/cuda/src/main/java/io/sbora4j/cuda/ffi/sbora_cuda_h.java
  scripts/gen-bindings.py native/include/sbora_native.h java/cpu/src/main/java/io/sbora4j/cpu/ffi/sbora_native_h.java
  ./mvnw spotless:apply     (the generated code, in the project's format)

Everything in the class before the first function holder (the file comment, layouts, findOrThrow) is kept; the
integer #define constants of the header are (re)written there; one holder + descriptor + handle + wrapper per
`SB_API int f(...)` / `SBC_API int f(...)` prototype follows. jextract itself is not in the registries this project
builds from (scripts/jextract-bindings.sh uses it where installed); HeaderBindingsTest checks the result.
"""
import re
import sys

LAYOUTS = {'int64_t': ('C_LONG', 'long'), 'int': ('C_INT', 'int'), 'int32_t': ('C_INT', 'int'),
           'float': ('C_FLOAT', 'float'), 'double': ('C_DOUBLE', 'double')}


def layout(ctype):
    ctype = ' '.join(ctype.replace('const ', '').split())
    return ('C_POINTER', 'MemorySegment') if '*' in ctype else LAYOUTS[ctype]


def function(name, args):
    params = []
    a = ' '.join(args.split())
    if a != 'void':
        for p in a.split(','):
            m = re.match(r'(.*?)(\w+)$', p.strip())
            params.append((layout(m.group(1)), m.group(2)))
    descs = ',\n            '.join(['C_INT'] + [l[0] for l, _ in params])
    sig = ', '.join(f'{l[1]} {n}' for l, n in params)
    call = ', '.join(n for _, n in params)
    return f'''    private static final class {name} {{
        static final FunctionDescriptor DESC = FunctionDescriptor.of(
            {descs}
        );

        /** Resolved on first call, so that descriptors can be inspected without the library. */
        private static final class Linked {{
            static final MemorySegment ADDR = findOrThrow("{name}");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }}
    }}

    public static FunctionDescriptor {name}$descriptor() {{
        return {name}.DESC;
    }}

    public static MethodHandle {name}$handle() {{
        return {name}.Linked.HANDLE;
    }}

    public static int {name}({sig}) {{
        try {{
            return (int) {name}.Linked.HANDLE.invokeExact({call});
        }} catch (Error | RuntimeException ex) {{
            throw ex;
        }} catch (Throwable ex) {{
            throw new AssertionError("should not reach here", ex);
        }}
    }}
'''


def main(header, java):
    code = re.sub(r'/\*.*?\*/', '', open(header).read(), flags=re.S)
    protos = re.findall(r'(?:SB_API|SBC_API)\s+int\s+(\w+)\s*\(([^)]*)\)\s*;', code, flags=re.S)
    consts = re.findall(r'^#define\s+(SBC?_[A-Z0-9_]+)\s+(-?\d+)\s*$', code, flags=re.M)
    text = open(java).read()
    head = text[:text.index('    private static final class ')]
    head = re.sub(r'(    public static final int \w+ = -?\d+;\n)+', '@@CONSTS@@', head, count=1)
    head = head.replace('@@CONSTS@@', ''.join(f'    public static final int {n} = {v};\n' for n, v in consts))
    body = ''.join(function(n, a) for n, a in protos)
    open(java, 'w').write(head + body + '}\n')
    print(f'{java}: {len(protos)} functions, {len(consts)} constants')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
