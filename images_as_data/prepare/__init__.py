"""Stage "prepare" (rules/prepare.smk; book Sections 4.2, 5, 6.1): the raw-file inventory
(`inventory`), duplicate clusters (`dedupe`, with its Hamming-distance search in `hamming`),
the resized working images (`resize`) and the preprocessing Figures 4.2/4.3 (`figures`)."""
