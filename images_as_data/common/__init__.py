"""Infrastructure every stage uses: atomic writes (`atomic`), file hashes (`hashing`), rule
logging (`runlog`), config checks (`config`; the workflow's start-up checks in `startup`),
image ids (`image_ids`), folder listings (`listing`), reading CSV files (`tables`), a
process-parallel map (`parallel`), the Agg plotting backend (`plotting`) and provenance
sidecars (`provenance`)."""
