"""Reference for `ide_agents_ultra_duplicates`: exact Jaccard similarity of token-shingle sets, every
pair by brute force (no MinHash, no LSH), written out plainly.

Input: {"texts": [...], "shingle_size": k, "threshold": t}. Tokens are lowercased runs of letters
and digits; shingles are the k consecutive tokens joined by one space (a text with fewer tokens has
one shingle of all of them, a text without tokens none and is never paired). Output:
{"pairs": [[i, j, jaccard], ...]} for every i < j with |A & B| / |A | B| >= t: the pairs our
tool's `pairs` (`a`, `b` = text indices, `jaccard`) should find, with the same `jaccard` values.
"""
import json
import re
import sys


def shingles(text, k):
    tokens = [t.lower() for t in re.findall(r"[^\W_]+", text)]
    if not tokens:
        return set()
    k = min(k, len(tokens))
    return {" ".join(tokens[i:i + k]) for i in range(len(tokens) - k + 1)}


def main():
    data = json.load(sys.stdin)
    sets = [shingles(t, data["shingle_size"]) for t in data["texts"]]
    pairs = []
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            if not sets[i] or not sets[j]:
                continue
            jaccard = len(sets[i] & sets[j]) / len(sets[i] | sets[j])
            if jaccard >= data["threshold"]:
                pairs.append([i, j, jaccard])
    json.dump({"pairs": pairs}, sys.stdout)


main()
