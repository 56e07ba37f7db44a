# Provenance sidecars: results/tables/<table>.provenance.json beside each table, recording
# the config hash, the raw data fingerprints, package versions and the git commit.


def provenance_targets(tables):
    """Sidecar paths for the given table names (results/tables/<name>.csv)."""
    return expand(f"{RESULTS}/tables/{{table}}.provenance.json", table=tables)


rule provenance:
    input:
        table=f"{RESULTS}/tables/{{table}}.csv",
        annotations=annotations_csv(),
        metadata=metadata_csv(),
        inventory=f"{RESULTS}/inventory/inventory.csv",
    output:
        f"{RESULTS}/tables/{{table}}.provenance.json",
    log:
        f"{LOGS}/provenance/{{table}}.log",
    wildcard_constraints:
        table="[A-Za-z0-9_]+",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        config=config,
        repo=workflow.basedir,
    script:
        "../scripts/provenance.py"
