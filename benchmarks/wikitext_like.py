#!/usr/bin/env python3
"""Writes wiki.{train,valid,test}.raw in WikiText's raw format (" = Title = " headings, one
paragraph per line, " @-@ " for hyphens) from the Brown corpus's text, at WikiText-103's
size by default (train 103M words, valid 218k, test 246k): a stand-in of the same shape
and size for checking that the engine's memory and time stay bounded on a corpus that
large. Not WikiText: its words are Brown's, repeated; only the scale is the point.

usage: wikitext_like.py BROWN_PACKAGE_DIR OUT_DIR [TRAIN_WORDS]
"""
import os
import random
import re
import sys


def paragraphs(root):
    paras = []
    for name in sorted(os.listdir(root)):
        if not re.fullmatch(r"c[a-r]\d\d", name):
            continue
        current = []
        with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                words = [t.rsplit("/", 1)[0].replace("``", '"').replace("''", '"') for t in line.split()]
                current.append(" ".join(words))
                if len(current) == 5:
                    paras.append(" ".join(current))
                    current = []
        if current:
            paras.append(" ".join(current))
    return paras


def write(path, paras, words, rng):
    n = article = 0
    with open(path, "w", encoding="utf-8") as out:
        while n < words:
            article += 1
            out.write(f" \n = Article {article} = \n \n")
            for _ in range(rng.randint(5, 30)):
                p = rng.choice(paras).replace("-", " @-@ ")
                out.write(" " + p + " \n")
                n += len(p.split())
    return n


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root, out = sys.argv[1], sys.argv[2]
    train_words = int(sys.argv[3]) if len(sys.argv) > 3 else 103_000_000
    paras = paragraphs(root)
    if not paras:
        sys.exit(f"wikitext_like.py: no Brown files (ca01 ... cr09) in {root}")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(1)
    for split, words in (("train", train_words), ("valid", 217_646), ("test", 245_569)):
        n = write(os.path.join(out, f"wiki.{split}.raw"), paras, words, rng)
        print(f"wiki.{split}.raw: {n} words", file=sys.stderr)


if __name__ == "__main__":
    main()
