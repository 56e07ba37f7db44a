# Stage "demo": the synthetic demo corpus (book Section 5 stand-in), generated only when
# demo.generate is true; with your own data the workflow reads data.* instead.

if config["demo"]["generate"]:

    rule demo_corpus:
        output:
            raw=directory(DEMO["raw"]),
            annotations=DEMO["annotations"],
            metadata=DEMO["metadata"],
            planted=DEMO["planted"],
            leaders=directory(DEMO["leaders"]),
            legend_positive=directory(DEMO["legend_positive"]),
            legend_negative=directory(DEMO["legend_negative"]),
        log:
            f"{LOGS}/demo_corpus.log",
        benchmark:
            f"{BENCH}/demo_corpus.tsv"
        conda:
            "../envs/imaging.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=30,
        params:
            n_images=config["demo"]["n_images"],
            seed=config["seed"],
            labelled_fraction=config["demo"]["labelled_fraction"],
            leaders_per_class=config["demo"]["leaders_per_class"],
            legend_external_per_class=config["demo"]["legend_external_per_class"],
            size_range=config["demo"]["size_range"],
        script:
            "../scripts/demo_corpus.py"
