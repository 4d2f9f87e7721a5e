#!/usr/bin/env python3
"""Turns the JSON lines written by Benchmarks/compare.sh into one Markdown table of medians and ratios."""
import json, os, re, sys

out = sys.argv[1] if len(sys.argv) > 1 else ".build-bench"


def load(name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except Exception as e:  # a section that did not run is reported, not fatal
        print(f"<!-- {name}: {e} -->")
        return None


def best_onnx(onnx, case):
    rows = [r for r in (onnx or {}).get("results", []) if r.get("case") == case]
    return max(rows, key=lambda r: r["sent_per_s"]) if rows else None


print("| workload | Attend | baseline | ratio |")
print("|---|---:|---:|---:|")
emb, onnx, st = load("attend_embed.json"), load("onnx.json"), load("st.json")
for case in ("short", "long"):
    ours = next((r for r in (emb or {}).get("results", []) if r["case"] == case and r["impl"] == "attend"), None)
    o = best_onnx(onnx, case)
    s = next((r for r in (st or {}).get("results", []) if r.get("case") == case and "sentence-transformers" in r.get("impl", "")), None)
    if ours and o:
        print(f"| embed {case} ({ours['n']} × {ours['tokens']} tok), sentences/s | {ours['sent_per_s']:.0f} | "
              f"ONNX Runtime ({o['impl'].split()[-1]}) {o['sent_per_s']:.0f} | {ours['sent_per_s'] / o['sent_per_s']:.2f}× |")
    if ours and s:
        print(f"| embed {case}, sentences/s | {ours['sent_per_s']:.0f} | sentence-transformers {s['sent_per_s']:.0f} | "
              f"{ours['sent_per_s'] / s['sent_per_s']:.2f}× |")
    w = next((r for r in (emb or {}).get("results", []) if r["case"] == case and r["impl"] != "attend"), None)
    if ours and w:
        print(f"| embed {case} with all attention weights, time ratio | {w['median_s'] / ours['median_s']:.2f}× of plain | target ≤ 1.5× | |")

bf16 = load("attend_embed_bf16.json")
for case in ("short", "long"):
    ours = next((r for r in (bf16 or {}).get("results", []) if r["case"] == case and r["impl"] == "attend"), None)
    o = best_onnx(onnx, case)
    if ours and o:
        print(f"| embed {case}, **bf16** (`--precision bf16`, not the default), sentences/s | {ours['sent_per_s']:.0f} | "
              f"ONNX Runtime fp32 {o['sent_per_s']:.0f} | {ours['sent_per_s'] / o['sent_per_s']:.2f}× |")

int8, onnx8, q8 = load("attend_embed_int8.json"), load("onnx_int8.json"), load("int8_quality.json")
for case in ("short", "long"):
    ours = next((r for r in (int8 or {}).get("results", []) if r["case"] == case and r["impl"] == "attend"), None)
    o, o8 = best_onnx(onnx, case), best_onnx(onnx8, case)
    if ours and o:
        print(f"| embed {case}, **int8** (`--precision int8`, not the default), sentences/s | {ours['sent_per_s']:.0f} | "
              f"ONNX Runtime fp32 {o['sent_per_s']:.0f} | {ours['sent_per_s'] / o['sent_per_s']:.2f}× (target ≥ 2×) |")
    if ours and o8:
        print(f"| embed {case}, **int8**, sentences/s | {ours['sent_per_s']:.0f} | "
              f"ONNX Runtime int8 (dynamic) {o8['sent_per_s']:.0f} | {ours['sent_per_s'] / o8['sent_per_s']:.2f}× (target ≥ 1.3×) |")
    if ours:
        print(f"| embed {case}, **int8**, fraction of the fp32 FMA peak (useful fp32-equivalent FLOPs) | "
              f"{100 * ours['fraction_of_fp32_peak']:.0f}% | | |")
    qc = (q8 or {}).get(case)
    if qc:
        print(f"| embed {case}, **int8**, cosine to fp32 (min / mean over {qc['n']} sentences) | "
              f"{qc['cosine_min']:.4f} / {qc['cosine_mean']:.4f} | target min ≥ 0.99 | |")
if q8 and "retrieval" in q8:
    r = q8["retrieval"]
    print(f"| int8 top-10 retrieval overlap with fp32 ({r['queries']} queries over {r['corpus']} documents) | "
          f"{100 * r['overlap_mean']:.1f}% (min {100 * r['overlap_min']:.0f}%) | | |")

try:
    txt = open(os.path.join(out, "attend_rss.txt")).read()
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt).group(1))
    st_rss = load("st_rss.json")
    theirs = st_rss["load_and_encode_1000x12"]["max_rss_mib_median"] if st_rss else float("nan")
    print(f"| peak RSS, `attend embed` of the short set | {kb / 1024:.0f} MiB | sentence-transformers {theirs:.0f} MiB | "
          f"{(kb / 1024) / theirs:.2f}× |")
except Exception as e:
    print(f"<!-- rss: {e} -->")

att, sdpa = load("attend_attention.json"), load("sdpa.json")
for r in (sdpa or {}).get("results", []):
    ours = next((a for a in (att or {}).get("results", []) if a.get("N") == r["N"] and a.get("causal") == r["causal"]), None)
    if ours:
        print(f"| attention N={r['N']}{' causal' if r['causal'] else ''}, GFLOPS | {ours['gflops']:.0f} | "
              f"torch SDPA ({r.get('backend', '?')}) {r['gflops']:.0f} | {ours['gflops'] / r['gflops']:.2f}× |")

gemm, numpy_ = load("attend_gemm.json"), load("numpy_gemm.json")
for r in (numpy_ or {}).get("results", []):
    ours = next((g for g in (gemm or {}).get("results", [])
                 if g["m"] == r["m"] and g["k"] == r["k"] and g["n"] == r["n"] and not g.get("trans_b")), None)
    if ours:
        print(f"| GEMM {r['m']}×{r['k']}·{r['k']}×{r['n']}, GFLOPS | {ours['gflops']:.0f} | numpy/OpenBLAS {r['gflops']:.0f} | "
              f"{ours['gflops'] / r['gflops']:.2f}× |")
