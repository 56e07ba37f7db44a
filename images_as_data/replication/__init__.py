"""Stage "replication" (rules/replication.smk): the Section 3 toy networks (`toy_networks`),
Table 4.1 from torchvision's weights metadata (`table_4_1`) and the replication report that
puts every number of the book beside this run's (`report/`, one module per book section).
`book_reference` reads the book's numbers (config/book_reference.yaml) for all three."""
