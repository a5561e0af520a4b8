// Stand-in for the CUDA header of this name in the emulated build (cuda-kernels/emu/cuda_emu.h).
#include "../cuda_emu.h"
