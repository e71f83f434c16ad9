// Our driver for Samsung's PIMSimulator (not part of it): one channel running its
// element-wise ADD, PIMKernel::executeEltwise(ADD) exactly as its PIMBenchFixture.add test
// calls it (input rows 0 and 128, result row 256, all banks), for N FP16 elements per channel.
// Usage: pimsim_add N [MB] (run where ini/ and system_hbm_1ch.ini are; DEBUG_CMD_TRACE=true in
// the system ini prints every DRAM command with its cycle). MB is the channel's memory: 256
// (default) is one rank of the ini's organisation, the hbm2-pim preset's pseudo-channel; 512,
// the size PIMBenchFixture gives each channel, makes two ranks, whose refreshes the controller
// staggers by tREFI / 2. Compile command: docs/dram.md.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "MultiChannelMemorySystem.h"
#include "tests/PIMKernel.h"

using namespace DRAMSim;

int main(int argc, char** argv)
{
    if (argc != 2 && argc != 3)
    {
        std::fprintf(stderr, "usage: pimsim_add ELEMENTS_PER_CHANNEL [MB_PER_CHANNEL]\n");
        return 2;
    }
    const int elements = std::atoi(argv[1]);
    const unsigned megs = argc == 3 ? static_cast<unsigned>(std::atoi(argv[2])) : 256;
    auto mem = std::make_shared<MultiChannelMemorySystem>(
        "ini/HBM2_samsung_2M_16B_x64.ini", "system_hbm_1ch.ini", ".", "xval", megs);
    auto kernel = std::make_shared<PIMKernel>(mem, 1, 1);
    const int bursts = elements / 16;  // 16 FP16 per 32-byte burst
    kernel->executeEltwise(bursts, pimBankType::ALL_BANK, KernelType::ADD, 0, 256, 128);
    kernel->runPIM();
    std::printf("xval total cycles %llu\n", static_cast<unsigned long long>(kernel->getCycle()));
    return 0;
}
