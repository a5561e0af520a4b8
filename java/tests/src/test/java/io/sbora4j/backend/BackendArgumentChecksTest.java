package io.sbora4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.DeviceMemory;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every method of the {@link Backend} contract, on the cpu backend (native kernels, f32 and bf16) and the reference
 * backend, called with arguments that break it: a missing tensor, one in another device's memory, released memory, a wrong
 * type, a size one element short, a read-only output, index values out of range or repeated, bad head counts and
 * blocks. Each must be refused with a documented exception before any kernel runs; a kernel that ran on them would
 * read or write past a tensor's memory and could take this JVM (the test's) down. Each valid call is made too, so
 * that a refusal is caused by the one change.
 */
class BackendArgumentChecksTest {

    /** What the contract may throw for a bad argument ({@link KernelChecks}). */
    private static final Set<Class<? extends Throwable>> DOCUMENTED = Set.of(
            IllegalArgumentException.class,
            IndexOutOfBoundsException.class,
            NullPointerException.class,
            IllegalStateException.class);

    /** Arguments whose row length the contract leaves free (rowNorm's x: one norm per row, whatever its width; nf4Dequantize's out: any prefix of the codes). */
    private static final Map<String, Set<Integer>> FREE_WIDTH =
            Map.of("rowNorm", Set.of(0), "nf4Dequantize", Set.of(4));

    /** Methods with no tensor argument. */
    private static final Set<String> NO_TENSORS = Set.of("device", "describe", "synchronize");

    private Arena arena;
    private Device device;
    private Device other;
    private int cases;

    static Stream<String> backends() {
        return Stream.of("cpu", "reference");
    }

    @BeforeEach
    void open() {
        arena = Arena.ofConfined();
    }

    @AfterEach
    void close() {
        arena.close();
    }

    // ---------------------------------------------------------------- tensors

    /**
     * Memory of a device that is not the host, as far as the tensors and backends know (it is host memory in fact,
     * so that nothing breaks if a backend did compute on it): a host backend must refuse its tensors.
     */
    private static final class HostBackedDeviceMemory implements DeviceMemory {
        @Override
        public MemorySegment allocate(Arena arena, long bytes) {
            return arena.allocate(Math.max(1, bytes), 64).asSlice(0, bytes);
        }

        @Override
        public void toHost(MemorySegment device, long deviceOffset, MemorySegment host, long hostOffset, long bytes) {
            MemorySegment.copy(device, deviceOffset, host, hostOffset, bytes);
        }

        @Override
        public void fromHost(MemorySegment host, long hostOffset, MemorySegment device, long deviceOffset, long bytes) {
            MemorySegment.copy(host, hostOffset, device, deviceOffset, bytes);
        }

        @Override
        public void onDevice(MemorySegment src, MemorySegment dst, long bytes) {
            MemorySegment.copy(src, 0, dst, 0, bytes);
        }
    }

    private Tensor f32(int... dims) {
        return on(device, DType.F32, dims);
    }

    private Tensor on(Device d, DType type, int... dims) {
        long n = Arrays.stream(dims).asLongStream().reduce(1, (x, y) -> x * y);
        return switch (type) {
            case F32, BF16 -> {
                float[] v = new float[(int) n];
                for (int i = 0; i < v.length; i++) {
                    v[i] = 0.25f * (i % 7) + 0.5f;
                }
                yield Tensor.of(arena, d, type, v, dims);
            }
            case I32 -> Tensor.ofInts(arena, d, new int[(int) n], dims);
            case U8 -> {
                Tensor t = Tensor.empty(arena, d, DType.U8, dims);
                t.data().fill((byte) 0x37);
                yield t;
            }
        };
    }

    private Tensor ints(int... values) {
        return Tensor.ofInts(arena, device, values, values.length);
    }

    private Tensor u8(int n) {
        return on(device, DType.U8, n);
    }

    // ---------------------------------------------------------------- the valid calls

    /** One valid call of a method: its arguments, which of them may be null, which are written. */
    private record Call(Object[] args, Set<Integer> optional, Set<Integer> outputs) {}

    private static Call call(Set<Integer> optional, Set<Integer> outputs, Object... args) {
        return new Call(args, optional, outputs);
    }

    private static Call call(int output, Object... args) {
        return new Call(args, Set.of(), Set.of(output));
    }

    private static AttentionShape attention(int seq) {
        return new AttentionShape(2, seq, 2, 1, 4, 0.5f);
    }

    /** A valid call of every method with tensors of {@code t} where the contract lets it choose (f32 or bf16). */
    private Map<String, Call> validCalls(DType t) {
        Map<String, Call> m = new LinkedHashMap<>();
        Function<int[], Tensor> fl = dims -> on(device, t, dims);
        m.put(
                "gemm",
                call(
                        6,
                        false,
                        false,
                        1f,
                        fl.apply(new int[] {2, 3}),
                        fl.apply(new int[] {3, 4}),
                        0f,
                        fl.apply(new int[] {2, 4})));
        m.put("gatherCols", call(2, fl.apply(new int[] {3, 5}), ints(0, 4), fl.apply(new int[] {3, 2})));
        m.put("gatherRows", call(2, fl.apply(new int[] {5, 3}), ints(4, 1), fl.apply(new int[] {2, 3})));
        m.put("indexAddCols", call(0, fl.apply(new int[] {3, 5}), ints(0, 4), fl.apply(new int[] {3, 2}), 1f));
        m.put("indexAddRows", call(0, fl.apply(new int[] {5, 3}), ints(4, 1), fl.apply(new int[] {2, 3}), 1f));
        m.put("fill", call(0, fl.apply(new int[] {4}), 1f));
        m.put("convert", call(1, fl.apply(new int[] {2, 3}), f32(2, 3)));
        m.put(
                "gatherGemm",
                call(
                        Set.of(6),
                        Set.of(5, 6),
                        fl.apply(new int[] {3, 5}),
                        ints(0, 4),
                        fl.apply(new int[] {4, 2}),
                        true,
                        1f,
                        fl.apply(new int[] {3, 4}),
                        fl.apply(new int[] {3, 2})));
        m.put(
                "gemmScatter",
                call(
                        5,
                        fl.apply(new int[] {3, 4}),
                        fl.apply(new int[] {2, 4}),
                        true,
                        ints(0, 4),
                        1f,
                        fl.apply(new int[] {3, 5})));
        m.put("copy", call(1, fl.apply(new int[] {2, 3}), fl.apply(new int[] {2, 3})));
        for (String op : List.of("add", "sub", "mul", "div")) {
            m.put(op, call(2, fl.apply(new int[] {6}), fl.apply(new int[] {6}), fl.apply(new int[] {6})));
        }
        m.put("scale", call(2, fl.apply(new int[] {6}), 2f, fl.apply(new int[] {6})));
        m.put("axpy", call(2, 1f, fl.apply(new int[] {6}), fl.apply(new int[] {6})));
        m.put("sum", call(Set.of(), Set.of(), fl.apply(new int[] {6})));
        m.put("countNonFinite", call(Set.of(), Set.of(), fl.apply(new int[] {6})));
        if (t == DType.BF16) {
            return m; // the rest of the contract is f32 only
        }
        m.put("dot", call(Set.of(), Set.of(), f32(6), f32(6)));
        m.put("rowNorm", call(1, f32(3, 4), f32(3)));
        m.put("scaleRows", call(2, f32(3, 4), f32(3), f32(3, 4)));
        m.put("scaleCols", call(2, f32(3, 4), f32(4), f32(3, 4)));
        m.put("colDot", call(2, f32(3, 4), f32(3, 4), f32(4)));
        m.put("transpose", call(1, f32(3, 4), f32(4, 3)));
        m.put("rmsNormForward", call(Set.of(), Set.of(3, 4), f32(3, 4), f32(4), 1e-6f, f32(3, 4), f32(3)));
        m.put(
                "rmsNormBackward",
                call(Set.of(4, 5), Set.of(4, 5), f32(3, 4), f32(4), f32(3), f32(3, 4), f32(3, 4), f32(4)));
        m.put(
                "addRmsNormForward",
                call(Set.of(), Set.of(4, 5, 6), f32(3, 4), f32(3, 4), f32(4), 1e-6f, f32(3, 4), f32(3, 4), f32(3)));
        m.put(
                "addRmsNormBackward",
                call(
                        Set.of(4, 5, 6),
                        Set.of(5, 6),
                        f32(3, 4),
                        f32(4),
                        f32(3),
                        f32(3, 4),
                        f32(3, 4),
                        f32(3, 4),
                        f32(4)));
        m.put("rope", call(6, f32(3, 8), 2, ints(0, 1, 3), f32(4, 2), f32(4, 2), 1f, f32(3, 8)));
        m.put("siluMulForward", call(2, f32(6), f32(6), f32(6)));
        m.put("siluMulBackward", call(Set.of(3, 4), Set.of(3, 4), f32(6), f32(6), f32(6), f32(6), f32(6)));
        m.put(
                "attentionForward",
                call(Set.of(), Set.of(4, 5), f32(4, 8), f32(4, 4), f32(4, 4), attention(2), f32(4, 8), f32(8)));
        m.put(
                "attentionBackward",
                call(
                        Set.of(),
                        Set.of(7, 8, 9),
                        f32(4, 8),
                        f32(4, 4),
                        f32(4, 4),
                        f32(4, 8),
                        f32(8),
                        f32(4, 8),
                        attention(2),
                        f32(4, 8),
                        f32(4, 4),
                        f32(4, 4)));
        // two sequences of 2 new tokens against caches of 3 rows each, the first holding 1 token already
        m.put("cachedAttention", call(6, f32(4, 8), f32(6, 4), f32(6, 4), ints(1, 0), attention(2), 0, f32(4, 8)));
        m.put("crossEntropyForward", call(Set.of(), Set.of(3, 4), f32(3, 5), ints(0, 4, -100), -100, f32(3), f32(3)));
        m.put("crossEntropyBackward", call(5, f32(3, 5), ints(0, 4, -100), f32(3), -100, 1f, f32(3, 5)));
        m.put(
                "crossEntropyForwardBackward",
                call(Set.of(), Set.of(4, 5, 6), f32(3, 5), ints(0, 4, -100), -100, 1f, f32(3), f32(3), f32(3, 5)));
        m.put("nf4Quantize", call(Set.of(), Set.of(2, 3), f32(9), 4, u8(5), f32(3)));
        m.put("nf4Dequantize", call(4, u8(5), f32(3), 0L, 4, f32(9)));
        m.put("adamwStep", call(Set.of(), Set.of(0, 2, 3), f32(4), f32(4), f32(4), f32(4), adamw()));
        return m;
    }

    private static AdamWStep adamw() {
        return AdamWStep.of(1e-3, 0.9, 0.999, 1e-8, 0.01, 1);
    }

    /** Calls that break one rule the generic changes do not reach: index values, head counts, blocks, geometry. */
    private Map<String, List<Object[]>> specialBadCalls() {
        Map<String, List<Object[]>> m = new LinkedHashMap<>();
        m.put(
                "gatherCols",
                List.of(
                        new Object[] {f32(3, 5), ints(0, 5), f32(3, 2)},
                        new Object[] {f32(3, 5), ints(-1, 2), f32(3, 2)},
                        new Object[] {f32(3, 5), ints(Integer.MIN_VALUE, 2), f32(3, 2)}));
        m.put("gatherRows", List.of(new Object[] {f32(5, 3), ints(5, 1), f32(2, 3)}, new Object[] {
            f32(5, 3), ints(4, -7), f32(2, 3)
        }));
        m.put(
                "indexAddCols",
                List.of(
                        new Object[] {f32(3, 5), ints(2, 2), f32(3, 2), 1f},
                        new Object[] {f32(3, 5), ints(0, 9), f32(3, 2), 1f},
                        new Object[] {f32(3, 5), ints(-1, 0), f32(3, 2), 1f}));
        m.put("indexAddRows", List.of(new Object[] {f32(5, 3), ints(5, 1), f32(2, 3), 1f}, new Object[] {
            f32(5, 3), ints(-1, 1), f32(2, 3), 1f
        }));
        m.put(
                "gatherGemm",
                List.of(
                        new Object[] {f32(3, 5), ints(0, 5), f32(4, 2), true, 1f, f32(3, 4), null},
                        new Object[] {f32(3, 5), ints(0, 2), f32(2, 4), true, 1f, f32(3, 4), null},
                        new Object[] {f32(3, 5), ints(0, -2), f32(2, 4), false, 1f, f32(3, 4), null}));
        m.put(
                "gemmScatter",
                List.of(
                        new Object[] {f32(3, 4), f32(2, 4), true, ints(1, 1), 1f, f32(3, 5)},
                        new Object[] {f32(3, 4), f32(2, 4), true, ints(0, 5), 1f, f32(3, 5)},
                        new Object[] {f32(3, 4), f32(4, 2), true, ints(0, 1), 1f, f32(3, 5)}));
        m.put(
                "gemm",
                List.of(
                        new Object[] {true, false, 1f, f32(2, 3), f32(3, 4), 0f, f32(2, 4)},
                        new Object[] {false, true, 1f, f32(2, 3), f32(3, 4), 0f, f32(2, 4)},
                        new Object[] {false, false, 1f, f32(6), f32(3, 4), 0f, f32(2, 4)}));
        m.put(
                "rope",
                List.of(
                        new Object[] {f32(3, 8), 2, ints(0, 1, 4), f32(4, 2), f32(4, 2), 1f, f32(3, 8)},
                        new Object[] {f32(3, 8), 2, ints(0, -1, 2), f32(4, 2), f32(4, 2), 1f, f32(3, 8)},
                        new Object[] {f32(3, 8), 3, ints(0, 1, 2), f32(4, 2), f32(4, 2), 1f, f32(3, 8)},
                        new Object[] {f32(3, 8), 0, ints(0, 1, 2), f32(4, 2), f32(4, 2), 1f, f32(3, 8)},
                        new Object[] {f32(3, 8), 8, ints(0, 1, 2), f32(4, 2), f32(4, 2), 1f, f32(3, 8)},
                        new Object[] {f32(3, 8), -2, ints(0, 1, 2), f32(4, 2), f32(4, 2), 1f, f32(3, 8)},
                        new Object[] {f32(3, 8), 2, ints(0, 1, 2), f32(4, 2), f32(3, 2), 1f, f32(3, 8)}));
        m.put(
                "attentionForward",
                List.of(
                        new Object[] {f32(4, 8), f32(4, 4), f32(4, 4), attention(3), f32(4, 8), f32(8)},
                        new Object[] {f32(4, 8), f32(4, 4), f32(4, 4), null, f32(4, 8), f32(8)},
                        new Object[] {
                            f32(4, 8), f32(4, 4), f32(4, 4), new AttentionShape(2, 2, 1, 1, 8, 1f), f32(4, 8), f32(8)
                        }));
        m.put(
                "cachedAttention",
                List.of(
                        new Object[] {f32(4, 8), f32(6, 4), f32(6, 4), ints(2, 0), attention(2), 0, f32(4, 8)},
                        new Object[] {f32(4, 8), f32(6, 4), f32(6, 4), ints(0, -1), attention(2), 0, f32(4, 8)},
                        new Object[] {f32(4, 8), f32(6, 4), f32(6, 4), ints(0, 0), attention(2), -1, f32(4, 8)},
                        new Object[] {f32(4, 8), f32(6, 4), f32(6, 4), ints(0, 0), null, 0, f32(4, 8)},
                        new Object[] {f32(4, 8), f32(2, 4), f32(2, 4), ints(0, 0), attention(2), 0, f32(4, 8)},
                        new Object[] {f32(4, 8), f32(6, 4), f32(6, 4), ints(0, 0, 0), attention(2), 0, f32(4, 8)}));
        m.put(
                "crossEntropyForward",
                List.of(
                        new Object[] {f32(3, 5), ints(0, 5, -100), -100, f32(3), f32(3)},
                        new Object[] {f32(3, 5), ints(0, -1, -100), -100, f32(3), f32(3)},
                        new Object[] {f32(3, 5), ints(0, 1, -100), 0, f32(3), f32(3)}));
        m.put(
                "crossEntropyBackward",
                List.<Object[]>of(new Object[] {f32(3, 5), ints(0, 5, 1), f32(3), -100, 1f, f32(3, 5)}));
        m.put(
                "crossEntropyForwardBackward",
                List.<Object[]>of(new Object[] {f32(3, 5), ints(7, 0, 1), -100, 1f, f32(3), f32(3), f32(3, 5)}));
        m.put(
                "nf4Quantize",
                List.of(new Object[] {f32(8), 3, u8(4), f32(3)}, new Object[] {f32(8), 0, u8(4), f32(2)}, new Object[] {
                    f32(8), -4, u8(4), f32(2)
                }));
        m.put(
                "nf4Dequantize",
                List.of(
                        new Object[] {u8(4), f32(2), 1L, 4, f32(8)},
                        new Object[] {u8(4), f32(2), -1L, 4, f32(8)},
                        new Object[] {u8(4), f32(2), Long.MAX_VALUE, 4, f32(8)},
                        new Object[] {u8(4), f32(1), 0L, 4, f32(8)},
                        new Object[] {u8(4), f32(2), 0L, 5, f32(8)}));
        m.put("rmsNormForward", List.of(new Object[] {f32(3, 4), f32(4), -1f, f32(3, 4), f32(3)}, new Object[] {
            f32(3, 4), f32(4), Float.NaN, f32(3, 4), f32(3)
        }));
        return m;
    }

    // ---------------------------------------------------------------- the test

    @ParameterizedTest
    @MethodSource("backends")
    void everyMethodRefusesBrokenArguments(String backendName) {
        device = Backends.device(backendName);
        other = Device.of("elsewhere", new HostBackedDeviceMemory());
        Backend be = Backends.of(device);

        Map<String, Call> f32Calls = validCalls(DType.F32);
        Set<String> contract = Arrays.stream(Backend.class.getMethods())
                .filter(m -> !Modifier.isStatic(m.getModifiers()))
                .map(Method::getName)
                .filter(n -> !NO_TENSORS.contains(n))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(contract, new TreeSet<>(f32Calls.keySet()), "every method of the contract has a valid call");

        for (DType t : List.of(DType.F32, DType.BF16)) {
            for (var e : validCalls(t).entrySet()) {
                Method m = method(e.getKey());
                Call c = e.getValue();
                String what = backendName + " " + e.getKey() + " (" + t.name().toLowerCase(Locale.ROOT) + ")";
                invokeOk(what, be, m, c.args());
                for (Object[] bad :
                        brokenVariants(c, f32Only(e.getKey()), FREE_WIDTH.getOrDefault(e.getKey(), Set.of()))) {
                    refused(what + " " + describe(bad), be, m, bad);
                }
            }
        }
        for (var e : specialBadCalls().entrySet()) {
            Method m = method(e.getKey());
            for (Object[] bad : e.getValue()) {
                refused(backendName + " " + e.getKey() + " " + describe(bad), be, m, bad);
            }
        }
        // What this run tried, for the record (a crash would have ended the JVM before this line).
        System.out.println("BackendArgumentChecksTest: " + backendName + ": " + cases
                + " broken calls refused with a documented exception");
        assertTrue(cases > 500, "cases: " + cases);
    }

    private static boolean f32Only(String method) {
        return !Set.of(
                        "gemm",
                        "gatherCols",
                        "gatherRows",
                        "indexAddCols",
                        "indexAddRows",
                        "fill",
                        "convert",
                        "gatherGemm",
                        "gemmScatter",
                        "copy",
                        "add",
                        "sub",
                        "mul",
                        "div",
                        "scale",
                        "axpy",
                        "sum",
                        "countNonFinite")
                .contains(method);
    }

    /** The valid call with one tensor argument broken at a time, in every way the contract refuses. */
    private List<Object[]> brokenVariants(Call c, boolean f32Only, Set<Integer> freeWidth) {
        List<Object[]> out = new ArrayList<>();
        // a method of one tensor (fill, sum, countNonFinite) takes any size
        boolean sized = Arrays.stream(c.args()).filter(a -> a instanceof Tensor).count() > 1;
        for (int i = 0; i < c.args().length; i++) {
            if (!(c.args()[i] instanceof Tensor t)) {
                continue;
            }
            if (!c.optional().contains(i)) {
                out.add(with(c.args(), i, null));
            }
            out.add(with(c.args(), i, on(other, t.dtype(), t.shape().dims())));
            out.add(with(c.args(), i, released(t)));
            out.add(with(
                    c.args(),
                    i,
                    on(
                            device,
                            t.dtype().isFloating() ? DType.I32 : DType.F32,
                            t.shape().dims())));
            if (t.dtype() == DType.I32 || t.dtype() == DType.U8) {
                out.add(with(c.args(), i, on(device, DType.BF16, t.shape().dims())));
            }
            if (f32Only && t.dtype() == DType.F32) {
                out.add(with(c.args(), i, on(device, DType.BF16, t.shape().dims())));
            }
            for (int[] dims :
                    sized && !freeWidth.contains(i) ? shorter(t.shape().dims()) : List.<int[]>of()) {
                out.add(with(c.args(), i, on(device, t.dtype(), dims)));
            }
            if (c.outputs().contains(i)) {
                out.add(with(c.args(), i, readOnly(t)));
            }
        }
        return out;
    }

    /** Shapes one element short: the first dimension, the last, and all of it as a vector. */
    private static List<int[]> shorter(int[] dims) {
        List<int[]> out = new ArrayList<>();
        int[] a = dims.clone();
        a[0]--;
        out.add(a);
        if (dims.length > 1) {
            int[] b = dims.clone();
            b[b.length - 1]--;
            out.add(b);
        }
        long n = Arrays.stream(dims).asLongStream().reduce(1, (x, y) -> x * y);
        out.add(new int[] {(int) n - 1});
        return out;
    }

    /** A tensor like {@code like} whose memory is already released. */
    private Tensor released(Tensor like) {
        Arena gone = Arena.ofConfined();
        Tensor t = Tensor.empty(gone, device, like.dtype(), like.shape().dims());
        gone.close();
        return t;
    }

    private Tensor readOnly(Tensor like) {
        MemorySegment seg = arena.allocate(Math.max(1, like.bytes()), 64).asSlice(0, like.bytes());
        return Tensor.wrap(
                seg.asReadOnly(), arena, device, like.dtype(), like.shape().dims());
    }

    private static Object[] with(Object[] args, int i, Object value) {
        Object[] copy = args.clone();
        copy[i] = value;
        return copy;
    }

    private static Method method(String name) {
        return Arrays.stream(Backend.class.getMethods())
                .filter(m -> m.getName().equals(name))
                .findFirst()
                .orElseThrow();
    }

    private static String describe(Object[] args) {
        return Arrays.stream(args)
                .map(a ->
                        a instanceof Tensor t ? t.describe() + (t.isReadOnly() ? " read-only" : "") : String.valueOf(a))
                .collect(Collectors.joining(", ", "(", ")"));
    }

    private static void invokeOk(String what, Backend be, Method m, Object[] args) {
        try {
            m.invoke(be, args);
        } catch (InvocationTargetException e) {
            fail(what + ": the valid call failed: " + e.getCause(), e.getCause());
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    private void refused(String what, Backend be, Method m, Object[] args) {
        cases++;
        try {
            m.invoke(be, args);
        } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            if (DOCUMENTED.stream().noneMatch(k -> k.isInstance(c))) {
                fail(what + ": refused with an undocumented " + c, c);
            }
            String msg = c.getMessage();
            assertTrue(msg != null && !msg.isBlank() && msg.lines().count() == 1, what + ": one line: " + msg);
            return;
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
        fail(what + ": accepted");
    }
}
