"""Attend as the map step of Apache Spark: embed a JSON Lines corpus partition by partition.

Each partition is piped through `attend embed --input - --output -` (RDD.pipe): Spark streams the partition's lines
to attend's stdin and collects the embedded JSON Lines from its stdout. Partitions are laid out as whole windows of
`--window` lines, in order, so each `attend embed` process forms exactly the batches a single run over the whole
corpus forms: the part files, concatenated in order, are byte-for-byte the output of one `attend embed` run.

    python embed_corpus.py --input docs.jsonl --output shards/ --attend /path/to/attend --partitions 4

On a cluster, ship the `attend` binary and the model folder to the executors (spark-submit --files / an image) and
point --attend and --model at them; nothing else changes.
"""
import argparse
import os
import shutil

from pyspark.sql import SparkSession


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", required=True, help="JSON Lines corpus: {\"id\", \"text\", ...} per line")
    p.add_argument("--output", required=True, help="directory for the part files (replaced)")
    p.add_argument("--attend", required=True, help="path of the attend binary on every executor")
    p.add_argument("--model", default="all-MiniLM-L6-v2", help="model name or folder, as attend embed --model")
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--window", type=int, default=1024, help="attend embed --window (lines sorted and batched together)")
    p.add_argument("--master", default="local[2]")
    args = p.parse_args()

    spark = (SparkSession.builder.master(args.master).appName("attend-embed")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "1g").getOrCreate())
    sc = spark.sparkContext
    sc.setLogLevel("WARN")

    lines = sc.textFile(args.input).filter(lambda l: l.strip() != "")
    indexed = lines.zipWithIndex().map(lambda li: (li[1], li[0]))           # (line index, line)
    n = indexed.count()
    windows = max(1, (n + args.window - 1) // args.window)
    parts = max(1, min(args.partitions, windows))
    window = args.window

    # Contiguous ranges of whole windows per partition, lines in input order inside each.
    def partition_of(index):
        return (index // window) * parts // windows

    ordered = indexed.repartitionAndSortWithinPartitions(parts, partition_of).map(lambda kv: kv[1])
    command = [args.attend, "embed", "--model", args.model, "--input", "-", "--output", "-",
               "--input-format", "jsonl", "--window", str(window)]
    embedded = ordered.pipe(" ".join(command), env={"NO_COLOR": "1"}, checkCode=True)

    if os.path.exists(args.output):
        shutil.rmtree(args.output)
    embedded.saveAsTextFile(args.output)
    print(f"embedded {n} lines in {parts} partitions ({windows} windows of {window}) into {args.output}")
    spark.stop()


if __name__ == "__main__":
    main()
