"""Stage "labels" (rules/labels.smk; book Sections 5, 7.1-7.3): annotation sheets
aggregated per image (`annotations`), each task's labels by the book's rules (`tasks`),
balanced cluster-grouped splits (`splits`) and Table 7.1 with Figures 7.1/7.2 (`figures`)."""
