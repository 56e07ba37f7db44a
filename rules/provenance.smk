# Provenance sidecars: results/tables/<table>.provenance.json beside each table, recording
# the config hash, the raw data fingerprints, package versions and the git commit.


rule provenance:
    input:
        table=f"{RESULTS}/tables/{{table}}.csv",
        annotations=annotations_csv(),
        metadata=metadata_csv(),
        inventory=rules.inventory.output.inventory,
    output:
        f"{RESULTS}/tables/{{table}}.provenance.json",
    log:
        f"{LOGS}/provenance/{{table}}.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        config=config,
        # Relative to the working directory, so that moving the project reruns nothing.
        repo=os.path.relpath(workflow.basedir),
    script:
        "../scripts/provenance.py"
