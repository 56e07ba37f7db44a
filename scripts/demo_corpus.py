"""Rule demo_corpus: generate the synthetic demo corpus under results/demo/."""

import json
import time

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.demo.corpus import demo_outdir, generate_demo_corpus

logger = setup_rule_logging(snakemake)
params = snakemake.params
started = time.perf_counter()
summary = generate_demo_corpus(
    demo_outdir(snakemake.output),
    n_images=params.n_images,
    seed=params.seed,
    labelled_fraction=params.labelled_fraction,
    leaders_per_class=params.leaders_per_class,
    legend_external_per_class=params.legend_external_per_class,
    size_range=tuple(params.size_range),
)
logger.info("demo corpus written in %.1f s: %s", time.perf_counter() - started, json.dumps(summary, sort_keys=True))
