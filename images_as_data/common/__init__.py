"""Infrastructure every stage uses: atomic writes (`atomic`), file hashes (`hashing`), rule
logging (`runlog`), config checks (`config`), image ids (`image_ids`), a process-parallel map
(`parallel`), the Agg plotting backend (`plotting`) and provenance sidecars (`provenance`)."""
