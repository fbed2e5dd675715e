#!/usr/bin/env python3
"""Make the golden quantization fixtures of tests/test_quant.c (run once;
see README.md).  Python 3 standard library only.

  make_fixtures.py PEER_DIR OUT_DIR

1. gen_gguf.py writes a tiny256 model with F32 weights;
2. the first 64 rows of blk.0.attn_q.weight (256 columns) are overwritten
   with the rows below (random rows of many scales plus edge cases) and
   written to OUT_DIR/input.f32;
3. llama-quantize --pure quantizes the model to each type; the same 64 rows
   of the quantized tensor go to OUT_DIR/<TYPE>.bin;
4. for MXFP4 also ggml's dequantization of those rows: llama-quantize
   --allow-requantize --pure of the MXFP4 file to F32, into OUT_DIR/MXFP4.f32.
"""
import math
import os
import struct
import subprocess
import sys
import tempfile

ROWS, COLS = 64, 256
TENSOR = "blk.0.attn_q.weight"
# llama-quantize ftype name -> the tensor type it produces with --pure
TYPES = [("Q4_0", "Q4_0"), ("Q4_1", "Q4_1"), ("Q5_0", "Q5_0"), ("Q5_1", "Q5_1"), ("Q8_0", "Q8_0"),
         ("Q2_K", "Q2_K"), ("Q3_K_S", "Q3_K"), ("Q4_K_S", "Q4_K"), ("Q5_K_S", "Q5_K"),
         ("Q6_K", "Q6_K"), ("IQ4_NL", "IQ4_NL"), ("IQ4_XS", "IQ4_XS"), ("F16", "F16"),
         ("BF16", "BF16"), ("MXFP4_MOE", "MXFP4")]
BLOCK = {"F32": (1, 4), "F16": (1, 2), "BF16": (1, 2), "Q4_0": (32, 18), "Q4_1": (32, 20),
         "Q5_0": (32, 22), "Q5_1": (32, 24), "Q8_0": (32, 34), "Q2_K": (256, 84),
         "Q3_K": (256, 110), "Q4_K": (256, 144), "Q5_K": (256, 176), "Q6_K": (256, 210),
         "IQ4_NL": (32, 18), "IQ4_XS": (256, 136), "MXFP4": (32, 17)}
TYPE_ID = {0: "F32", 1: "F16", 30: "BF16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0",
           10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 20: "IQ4_NL", 23: "IQ4_XS", 39: "MXFP4"}


def rows():
    """Deterministic test rows (an LCG, so the file is reproducible)."""
    state = [12345]

    def u():  # uniform in [0, 1)
        state[0] = (state[0] * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return (state[0] >> 11) / float(1 << 53)

    def gauss():
        return math.sqrt(-2 * math.log(1 - u())) * math.cos(2 * math.pi * u())

    out = []
    for r in range(40):  # gaussian rows, scales 1e-3 .. 10, a few outliers
        s = 10 ** (-3 + 4 * r / 39)
        row = [gauss() * s for _ in range(COLS)]
        if r % 5 == 0:
            row[(r * 37) % COLS] = 8 * s
        out.append(row)
    out.append([0.0] * COLS)                                   # all zero
    out.append([0.5] * COLS)                                   # constant
    out.append([0.0] * 100 + [3.0] + [0.0] * (COLS - 101))     # one spike
    out.append([gauss() * 1e-7 for _ in range(COLS)])          # tiny (fp16 subnormal scales)
    out.append([-abs(gauss()) for _ in range(COLS)])           # all negative
    out.append([abs(gauss()) + 1 for _ in range(COLS)])        # all positive, offset
    for r in range(ROWS - len(out)):                           # uniform with offsets
        off = (r - 9) * 0.3
        out.append([off + (u() * 2 - 1) for _ in range(COLS)])
    # a half-zero row: zero 32-blocks next to live ones
    out[-1] = [x if (i // 32) % 2 else 0.0 for i, x in enumerate(out[-1])]
    return [[struct.unpack("<f", struct.pack("<f", x))[0] for x in row] for row in out]


def gguf_tensors(path):
    """name -> (type name, ne, absolute data offset) of a GGUF v3 file."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0

    def rd(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    def rstr():
        nonlocal pos
        n = rd("Q")
        s = data[pos:pos + n].decode()
        pos += n
        return s

    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip_value(t):
        nonlocal pos
        if t == 8:
            rstr()
        elif t == 9:
            et, n = rd("I"), rd("Q")
            for _ in range(n):
                skip_value(et)
        else:
            pos += sizes[t]

    assert data[:4] == b"GGUF"
    pos = 4
    rd("I")
    n_t, n_kv = rd("Q"), rd("Q")
    align = 32
    for _ in range(n_kv):
        k = rstr()
        t = rd("I")
        if k == "general.alignment":
            align = rd("I")
        else:
            skip_value(t)
    infos = {}
    for _ in range(n_t):
        name = rstr()
        nd = rd("I")
        ne = [rd("Q") for _ in range(nd)]
        t = rd("I")
        off = rd("Q")
        infos[name] = (TYPE_ID.get(t, str(t)), ne, off)
    base = (pos + align - 1) // align * align
    return {k: (t, ne, base + off) for k, (t, ne, off) in infos.items()}


def main():
    peer, out_dir = sys.argv[1], sys.argv[2]
    quantize = os.path.join(peer, "llama.cpp", "build", "bin", "llama-quantize")
    tmp = tempfile.mkdtemp()
    src = os.path.join(tmp, "in.gguf")
    subprocess.run([sys.executable, os.path.join(peer, "gen_gguf.py"), "--preset", "tiny256",
                    "--type", "F32", "--out", src], check=True, stdout=subprocess.DEVNULL)
    t, ne, off = gguf_tensors(src)[TENSOR]
    assert t == "F32" and ne[0] == COLS and ne[1] >= ROWS, (t, ne)
    blob = b"".join(struct.pack("<%df" % COLS, *row) for row in rows())
    with open(src, "r+b") as f:
        f.seek(off)
        f.write(blob)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "input.f32"), "wb") as f:
        f.write(blob)
    for ftype, tname in TYPES:
        dst = os.path.join(tmp, ftype + ".gguf")
        subprocess.run([quantize, "--pure", src, dst, ftype], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t, ne, off = gguf_tensors(dst)[TENSOR]
        assert t == tname, (ftype, t)
        bs, ts = BLOCK[t]
        n = ROWS * COLS // bs * ts
        with open(dst, "rb") as f:
            f.seek(off)
            chunk = f.read(n)
        with open(os.path.join(out_dir, tname + ".bin"), "wb") as f:
            f.write(chunk)
        if tname == "MXFP4":  # ggml's to_float of the same blocks
            back = os.path.join(tmp, "back.gguf")
            subprocess.run([quantize, "--allow-requantize", "--pure", dst, back, "F32"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            bt, _, boff = gguf_tensors(back)[TENSOR]
            assert bt == "F32", bt
            with open(back, "rb") as f:
                f.seek(boff)
                deq = f.read(ROWS * COLS * 4)
            with open(os.path.join(out_dir, "MXFP4.f32"), "wb") as f:
                f.write(deq)
            os.remove(back)
        os.remove(dst)
        print(f"{tname}: {n} bytes")
    os.remove(src)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
