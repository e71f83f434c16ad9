"""docs/layout.md: every bundled layout, the output-shape rules and plug-in layouts.

Generated (sizes from the presets, pimisa/mx/pack.py and pimisa/mx/ocplayout.py) by
`python -m pimisa.codegen` and checked for staleness like docs/isa.md.
"""

from __future__ import annotations

from pimisa.layout import ENTRY_POINT_GROUP


def _presets_table() -> list[str]:
    from pimisa.arch import load_arch, preset_names

    out = ["| preset | cols per DRAM row | lanes | DRAM rows per hp16 tile | DRAM rows per hp32 "
           "tile | units |", "|---|---|---|---|---|---|"]
    for name in preset_names():
        g = load_arch(name).geometry
        out.append(f"| {name} | {g.cols} | {g.lanes} | {256 // g.cols} | {1024 // g.cols} | "
                   f"{g.total_units} |")
    return out


def _mx_table() -> list[str]:
    from pimisa.mx.pack import PACKED_FORMATS

    out = ["| format | m | bits used per block | words per block (W) | stored bits per "
           "element | vs nominal |", "|---|---|---|---|---|---|"]
    for f in PACKED_FORMATS.values():
        nominal = f.block_bits / 16
        stored = f.words_per_block * 32 / 16
        out.append(f"| {f.name} | {f.m} | {f.block_bits} | {f.words_per_block} | {stored:g} | "
                   f"{stored / nominal:.3f}x |")
    return out


def _ocp_table() -> list[str]:
    from pimisa.mx.formats import FORMATS, OcpFormat
    from pimisa.mx.ocplayout import tile_words, words_per_block

    out = ["| format | element | emax | emin | largest | words per block | words per lane "
           "and tile | bits per element |", "|---|---|---|---|---|---|---|---|"]
    for f in FORMATS.values():
        if not isinstance(f, OcpFormat):
            continue
        element = ("8-bit two's complement k/64" if f.twos_complement
                   else f"E{f.exp_bits}M{f.man_bits}")
        out.append(f"| {f.name} | {element} | {f.emax_elem} | {f.emin} | {f.max_normal:g} | "
                   f"{words_per_block(f)} | {tile_words(f)} | {tile_words(f) * 32 / 1024:g} |")
    return out


def _sixteen_bit() -> list[str]:
    """The 16-bit layouts (pimisa/layout16.py)."""
    return [
        "## 16-bit data: positions, not lanes",
        "",
        "The 16-bit layouts are defined on the 16-bit *positions* of a column word: position p",
        "is bits 16 p .. 16 p + 15 of the word (16 positions in a 256-bit word). With 16-bit",
        "lanes position p is lane p; with 32-bit lanes, lane k holds position 2k in its low half",
        "(bits 0..15) and position 2k + 1 in its high half. The bytes in memory are the same",
        "for both lane widths, and a value never straddles a lane.",
        "",
        "## hp16_bf16: BF16 weights in 16 x 16 sub-tiles",
        "",
        "hp16 with one sub-tile per position instead of per lane: a tile is 16 tensor rows x",
        "16 x 16 = 256 columns (16 x positions in general); position p of the tile's 256 words",
        "holds tile columns 16p..16p+15 as a 16 x 16 sub-tile, row-major: word 16 i + j,",
        "position p is tensor element (16 tr + i, 256 tc + 16 p + j) of tile (tr, tc) (tiles",
        "row-major over the zero-padded tensor). A row block of 16 is 16 consecutive words, a",
        "column block every 16th word, both inside one position, so the row and the column",
        "kernels read this one layout, as for float32 hp16; a tile holds 4096 elements in the",
        "256 words that hold 2048 float32 ones.",
        "",
        "Input: float32 (or float16) arrays whose values are BF16 (FP16) values -- anything",
        "else is an error naming the first element that is not, with its index and value --",
        "or the elements' 16-bit patterns: uint16 / int16, numpy's `<V2` (what `np.save`",
        "writes for an ml_dtypes bfloat16 array; numpy reads it as 2-byte voids) or an",
        "ml_dtypes array. A NaN of any payload is stored as the quiet NaN of its sign (0x7FC0",
        "or 0xFFC0 for BF16). Read back: float32, exactly the BF16 / FP16 values. For",
        "`pimisa fuzz`, inputs are adversarial tensors of the element type (the float32",
        "adversarial tensors rounded to it, plus single elements drawn as 16-bit patterns:",
        "subnormals, the largest finite, powers of two and their neighbours, Inf, NaN).",
        "",
        "## hp16_fp16: FP16 weights in 16 x 16 sub-tiles",
        "",
        "The same layout for FP16 (IEEE binary16) values: float32 or float16 input holding FP16",
        "values, or their 16-bit patterns; read back as float32.",
        "",
        "## raw16: 16-bit words as they are",
        "",
        "A 2-D array of a 2-byte dtype (uint16, int16, float16, a bfloat16 as its patterns),",
        "placed as its bits. Row t of the array is tile t; element e of a row goes to word",
        "e / 16, position e % 16 (memory order: word, then position). Read back: uint16. For",
        "`pimisa fuzz`, a raw16 input may declare `dtype=float16|bfloat16|int16|uint16`",
        "(default float16: edge-biased patterns) and `width=N`.",
        "",
        "## mx_packed16: MX blocks of hp16_bf16 tiles",
        "",
        "`.output Q, rows=..., layout=mx_packed16, fmt=mx6, dir=row`, written by",
        "`kernels/mx{9,6,4}_{row,col}_bf16` (32-bit lanes) and",
        "`kernels/mx{9,6,4}_{row,col}_bf16x16` (16-bit lanes). The blocks are the bit streams",
        "of mx_packed (below). On 32-bit lanes, 32 per lane and tile: those of sub-tile",
        "p = 2k + h (lane k, half h) at lane",
        "k's region words (16 h + b) x W .. + W - 1 for block b (the low half's 16 blocks,",
        "then the high half's). Block b of sub-tile p is tensor row 16 tr + b, columns",
        "16 (16 tc + p) .. +16 (row direction) or tensor column 16 (16 tc + p) + b, rows",
        "16 tr .. +16 (column direction), in the hp16_bf16 tile grid. Per element it stores",
        "exactly what mx_packed does (the table below). On 16-bit lanes (one sub-tile per",
        "lane, the `_bf16x16` kernels) the same bit streams are cut into 16-bit words: block",
        "b of lane p at words b x W16 .. + W16 - 1, W16 = the block's bits / 16 rounded up",
        "(9, 6, 4 for MX9, MX6, MX4: E and the micro-exponents fill word 0, the 16 codes the",
        "others exactly), bit o of the stream at bit o % 16 of word o / 16; a tile's 16 blocks",
        "take 16 x W16 words per lane (144, 96, 64), the same bytes as on 32-bit lanes.",
        "",
    ]


def layout_markdown() -> str:
    """The text of docs/layout.md."""
    from pimisa.mx.quantize import MX_FORMATS, OCP_FORMATS

    mx, ocp = ", ".join(MX_FORMATS), ", ".join(OCP_FORMATS)
    out = [
        "# Data layout",
        "",
        "Generated by `python -m pimisa.codegen` from the presets, `pimisa/mx/pack.py` and",
        "`pimisa/mx/ocplayout.py`; a test fails when this file is stale.",
        "",
        "A kernel declares each region it uses with a layout (`layout=NAME`, default `raw`):",
        "how a host tensor maps onto the region's words. Word w of a region is DRAM row",
        "`row + w / cols`, column `w % cols` of the tile; every word has `lanes` 32-bit lanes.",
        "",
        "## Tiles, units and slots",
        "",
        "A kernel is the program for one tile in one PIM unit. A launch runs it in every unit of",
        "every channel (all-bank mode) once per *slot*; slot s adds s x tile_rows to every row",
        "address (tile_rows: the end of the kernel's last region). Tile t of a tensor goes to",
        "unit t % units, slot t // units, so the data spread over every bank of the device",
        "before a bank holds a second tile. Unused tiles of a region are zero.",
        "",
        *_presets_table(),
        "",
        "## raw: words as they are",
        "",
        "A 2-D array of any 4-byte dtype (float32, int32, uint32), placed as its bits. Row t of",
        "the array is tile t; element e of a row goes to region word e / lanes, lane e % lanes",
        "(memory order: word, then lane). A row may be shorter than the region (the rest is",
        "zero), never longer. Read back, a raw region is uint32.",
        "",
        "For `pimisa fuzz`, a raw input may declare `dtype=float32|int32|uint32` (the values",
        "drawn: adversarial floats, or words biased to edge values; default float32) and",
        "`width=N` (elements per row; default the whole region, words x lanes).",
        "",
        "## hp16: float32 weights in 16 x 16 sub-tiles",
        "",
        "A tile is 16 tensor rows x 16 x lanes columns. Lane k of the unit holds columns",
        "16k..16k+15 of the tile as a 16 x 16 sub-tile, row-major across 256 consecutive region",
        "words: word 16 i + j is element (i, j). A row block of 16 (MX row direction) is 16",
        "consecutive words, inside one DRAM row on every preset; a column block is every 16th",
        "word, spread over all the tile's DRAM rows. Both directions read this same layout:",
        "JIT-Q stores the weights once. Tiles are numbered row-major over the zero-padded",
        "tensor. Read back: float32.",
        "",
        "## hp32: float32 weights in 32 x 32 sub-tiles",
        "",
        "The same with 32: a tile is 32 rows x 32 x lanes columns, lane k holds columns",
        "32k..32k+31 as a 32 x 32 sub-tile over 1024 words (word 32 i + j = element (i, j)), so",
        "an OCP MX block of 32 (a row block: 32 consecutive words; a column block: every 32nd",
        "word) lies in one lane. Read back: float32.",
        "",
        *_sixteen_bit(),
        "## mx_packed: MX9 / MX6 / MX4 blocks",
        "",
        "`.output Q, rows=..., layout=mx_packed, fmt=mx6, dir=row`. Each 16-element block is one",
        "bit stream in the lane that holds the block, starting at a word boundary: bits 0..7 the",
        "shared exponent E (255 marks a NaN/Inf block), bit 8 + k the micro-exponent of pair k,",
        "then the 16 element codes (magnitude in the low m bits, sign above). Block b (0..15) of",
        "lane k is at region words b x W .. b x W + W - 1; it is tensor row 16 tr + b, columns",
        "16 (lanes tc + k) .. +16 (row direction) or tensor column 16 (lanes tc + k) + b, rows",
        "16 tr .. +16 (column direction), (tr, tc) being the tile's place in the hp16 tile grid.",
        "Values: (-1)^s x M x 2^(E - 127 - d + 1 - m), d the pair's micro-exponent.",
        "",
        *_mx_table(),
        "",
        "## ocp_packed: OCP MX v1.0 blocks (MXFP8, MXFP6, MXFP4, MXINT8)",
        "",
        "`.output Q, rows=..., layout=ocp_packed, fmt=mxfp8_e4m3, dir=row`. Per tile and lane:",
        "32 blocks of 32 elements, then their 32 scales. Block b occupies words b x W .. b x W +",
        "W - 1 (W = the element's bits); element e's code is at bit e x bits of the block's bit",
        "stream (bit o is bit o % 32 of word o / 32: 6-bit codes may straddle two words). The",
        "E8M0 scale of block b is byte b % 4 of word 32 W + b / 4. Block b of lane k is tensor",
        "row 32 tr + b, columns 32 (lanes tc + k) .. +32 (row direction) or tensor column",
        "32 (lanes tc + k) + b, rows 32 tr .. +32 (column direction), in the hp32 tile grid.",
        "",
        "Element codes: sign bit above exponent and mantissa fields (FP formats), or the 8-bit",
        "two's complement of k for the value k/64 (MXINT8). Scale code X: 2^(X - 127); 0xFF",
        "marks a block that held Inf or NaN (its codes are 0). The quantization rule (the",
        "conversion algorithm of the OCP Microscaling Formats (MX) v1.0 specification,",
        "opencompute.org, 2023): X =",
        "max(bexp(amax) - emax, 0) with amax the block's largest magnitude; each element",
        "v / 2^(X - 127) rounds half to even to the element grid and saturates at the largest",
        "finite element. `pimisa.mx.formats` is the golden model, `pimisa.mx.ocplayout.read_codes`",
        "turns a launch's words into its codes.",
        "",
        *_ocp_table(),
        "",
        "## What `pimisa quantize --out Q.npz` writes",
        "",
        "The kernel's output read back from its packed region as the golden model's codes",
        "(`pimisa.mx.formats`: the SharedMicroCodes / OcpCodes fields of the same names), plus",
        "their float32 values. For an R x C tensor with blocks of k elements (16 for MX9 / MX6",
        "/ MX4, 32 for the OCP formats), Cp and Rp are C and R rounded up to a multiple of k:",
        "the block axis is zero-padded to whole blocks. codes[i, j] is the code of tensor",
        "element (i, j); the per-block arrays hold block j of row i at [i, j] (row direction)",
        "or block i of column j at [i, j] (column direction).",
        "",
        "| formats | array | dtype | row direction | column direction | what |",
        "|---|---|---|---|---|---|",
        "| all | dequantized | float32 | R x C | R x C | the values of the codes |",
        "| all | codes | uint8 | R x Cp | Rp x C | element codes (as in mx_packed / ocp_packed) |",
        f"| {mx} | shared_exp | uint8 | R x Cp/16 | Rp/16 x C | E (255: NaN/Inf block) |",
        f"| {mx} | micro_exp | uint8 | R x Cp/2 | Rp/2 x C | micro-exponent per pair |",
        f"| {ocp} | scale | uint8 | "
        "R x Cp/32 | Rp/32 x C | E8M0 scale code (255: NaN/Inf block) |",
        "",
        "What the kernel stores in bank memory is the packed layout above: 8.25, 6.25 or 4.25",
        "bits per element for the OCP formats (`pimisa quantize` prints the footprint, which",
        "grows above that only by the padding of partial tiles).",
        "",
        "## What `pimisa quantize` writes for a checkpoint",
        "",
        "`pimisa quantize --in model.safetensors|.npz --out Q.safetensors|Q.npz` writes, per",
        "quantized tensor NAME (R x C, k, Cp and Rp as above), the kernel's packed blocks in",
        "tensor order and their shared fields: block j of row i at [i, j] (row direction), block",
        "i of column j at [i, j] (column direction), each block's W words as the kernel stored",
        "them in its packed region (W: the tables of mx_packed and ocp_packed).",
        "",
        "| formats | array | dtype | row direction | column direction | what |",
        "|---|---|---|---|---|---|",
        "| all | NAME.blocks | uint32 | R x Cp/k x W | Rp/k x C x W | the packed block "
        "(mx_packed: E, micro-exponents, codes; ocp_packed: code e at bit e x bits) |",
        f"| {mx} | NAME.shared_exp | uint8 | R x Cp/16 | Rp/16 x C | E (255: NaN/Inf block) |",
        f"| {mx} | NAME.micro_exp | uint8 | R x Cp/2 | Rp/2 x C | micro-exponent per pair |",
        f"| {ocp} | NAME.scale | uint8 | "
        "R x Cp/32 | Rp/32 x C | E8M0 scale code (255: NaN/Inf block) |",
        "| all, with `--dequantized` | NAME.dequantized | float32 | R x C | R x C | the values "
        "of the codes |",
        "",
        "A .safetensors output also holds the metadata `pimisa.format`, `pimisa.direction` and",
        "`pimisa.shapes` (JSON: NAME -> [R, C]). `--report R.json` gives per tensor the shape,",
        "the stored dtype, the PIM time, the differing blocks (with `--golden`), the RMSE and the",
        "largest relative error against the high-precision values (over the finite inputs; the",
        "elements of NaN/Inf blocks are counted in `elements_in_nan_blocks`, not included). The",
        "OCP kernels read float32: F16 and BF16 tensors convert exactly; `--hp bf16` (the",
        "BF16-weight kernels) exists for MX9 / MX6 / MX4 only.",
        "",
        "## What a launch returns",
        "",
        "`pimisa run` and `pimisa.emulator.launch` read every output region back through its",
        "layout, at this logical shape, in order:",
        "",
        "1. the region's `shape=RxC` parameter (`shape=\"*xC\"`: the rows of 2 or 3, C columns);",
        "2. the shape of the input named by `like=NAME`;",
        "3. the shape of the first input with the same layout;",
        "4. none: the layout's whole-region default (raw, raw16 and the packed layouts: every",
        "   tile of the launch, one row per tile, the region's words x lanes (raw16: x 16-bit",
        "   positions) per row; hp16, hp16_bf16, hp16_fp16 and hp32 have no default and need",
        "   1-3).",
        "",
        "| layout | dtype read back |",
        "|---|---|",
        "| raw, mx_packed, mx_packed16, ocp_packed | uint32 (the words) |",
        "| raw16 | uint16 (the 16-bit patterns) |",
        "| hp16, hp16_bf16, hp16_fp16, hp32 | float32 (exact for BF16 and FP16) |",
        "",
        "`pimisa run --view f32|i32|u32` reinterprets the bits of every output as float32, int32",
        "or uint32 before writing the .npz (`--view f32` for a raw region that holds floats).",
        "",
        "## Your own layouts",
        "",
        "A layout is a subclass of `pimisa.layout.Layout` registered by name:",
        "",
        "```python",
        "from pimisa.layout import Raw, register_layout",
        "",
        "@register_layout(\"rev\")",
        "class Reversed(Raw):          # raw words, each row reversed",
        "    def place(self, words, array):",
        "        super().place(words, array[:, ::-1])",
        "    def read_back(self, words, shape):",
        "        return super().read_back(words, shape)[:, ::-1]",
        "```",
        "",
        "Methods: `tiles(shape, geometry)`, `words_needed(geometry)`, `check_array(name,",
        "array)`, `place(words, array)`, `read_back(words, shape)` on the view `words[slot,",
        "word, unit, lane]`; optionally `strategy(region, geometry, shared)` (the hypothesis",
        "strategy `pimisa fuzz` draws inputs of this layout from; without it a subclass of",
        "raw, hp16 or hp32 draws as its base does) and `gathers_words = False` when read_back",
        "does not copy single words (fuzz reports then give no source line).",
        "",
        "To make it usable from the command line, declare the module in the entry point group",
        f"`{ENTRY_POINT_GROUP}` of your package; pimisa imports every module of the group on the",
        "first layout lookup:",
        "",
        "```toml",
        f"[project.entry-points.\"{ENTRY_POINT_GROUP}\"]",
        "rev = \"mypackage.layouts\"",
        "```",
        "",
        "A module of the group that fails to import, or registers a name that is taken, is an",
        "error naming the entry point.",
        "",
    ]
    return "\n".join(out)
