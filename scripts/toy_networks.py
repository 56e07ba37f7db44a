"""Rule toy_networks: Table 3.1, the Figure 3.1 linear model, the Figure 3.2/3.4 networks, Figures 3.1 and 3.3."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.replication.toy_networks import ToyOutputs, run_toy_networks

setup_rule_logging(snakemake)
out = snakemake.output
run_toy_networks(
    reference_path=snakemake.input.reference,
    outputs=ToyOutputs(
        table_3_1_csv=out.table_3_1_csv,
        table_3_1_md=out.table_3_1_md,
        linear_csv=out.linear_csv,
        linear_md=out.linear_md,
        network_csv=out.network_csv,
        conv_csv=out.conv_csv,
        figure_3_1=out.figure_3_1_png.removesuffix(".png"),
        figure_3_3=out.figure_3_3_png.removesuffix(".png"),
    ),
    seed=snakemake.params.seed,
    epochs=snakemake.params.epochs,
    learning_rate=snakemake.params.learning_rate,
    restarts=snakemake.params.restarts,
    dpi=snakemake.params.dpi,
    style=snakemake.params.style,
)
