// Our driver for Samsung's PIMSimulator (not part of it): one channel running its FP16 GEMV,
// PIMKernel::preloadGemv + executeGemv(is_tree = false) as its PIMBenchFixture.gemv test calls
// them, for an OUT x IN weight matrix on one channel (8 PIM units: OUT = 64 is one output tile
// of 8 outputs per unit; IN a multiple of 128, one input tile of 8 bursts each). Weights and
// input are zero: the command stream does not depend on the values.
// Usage: pimsim_gemv OUT IN (run where ini/ and system_hbm_1ch.ini are; DEBUG_CMD_TRACE=true in
// the system ini prints every DRAM command with its cycle). Built in the simulator's directory
// after scons, as pimsim_add (docs/dram.md): g++ -std=c++14 -O2 -Isrc -Ilib -Itools
// PATH/scripts/xval/pimsim_gemv.cpp $(ls bin/*.o bin/tests/PIMKernel.o bin/tests/PIMCmdGen.o
// bin/tests/KernelAddrGen.o bin/tools/emulator_api/*.o) -lpthread -o pimsim_gemv
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "MultiChannelMemorySystem.h"
#include "tests/PIMKernel.h"

using namespace DRAMSim;

static void zeros(NumpyBurstType& t, unsigned long rows, unsigned long cols)
{
    t.shape = {rows, cols};
    t.bShape = {rows, cols / 16};  // 16 FP16 per 32-byte burst
    t.bData.assign(rows * (cols / 16), BurstType());
}

int main(int argc, char** argv)
{
    if (argc != 3)
    {
        std::fprintf(stderr, "usage: pimsim_gemv OUT IN\n");
        return 2;
    }
    const unsigned long out = std::strtoul(argv[1], nullptr, 10);
    const unsigned long in = std::strtoul(argv[2], nullptr, 10);
    if (out == 0 || out % 64 || in == 0 || in % 128)
    {
        std::fprintf(stderr, "pimsim_gemv: OUT must be a multiple of 64, IN of 128\n");
        return 2;
    }
    auto mem = std::make_shared<MultiChannelMemorySystem>(
        "ini/HBM2_samsung_2M_16B_x64.ini", "system_hbm_1ch.ini", ".", "xval", 256 * 2);
    auto kernel = std::make_shared<PIMKernel>(mem, 1, 1);
    NumpyBurstType weight, input;
    zeros(weight, out, in);
    zeros(input, 1, in);
    kernel->preloadGemv(&weight);
    kernel->runPIM();
    const uint64_t preload = kernel->getCycle();
    kernel->executeGemv(&weight, &input, false);
    kernel->runPIM();
    std::printf("xval preload cycles %llu\n", static_cast<unsigned long long>(preload));
    std::printf("xval total cycles %llu\n",
                static_cast<unsigned long long>(kernel->getCycle() - preload));
    return 0;
}
