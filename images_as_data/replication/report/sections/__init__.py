"""The report's sections, one module per section of the book, in report order (`SECTIONS`).

Each module declares its section: title, the files it links and reads (`ResultFile`, paths
under results/), the book's numbers (`measures`, from config/book_reference.yaml) and how to
find this run's (`values`). To compare one more number, add it to the reference YAML and to
its section's module; rule replication_report takes every declared file as an input when the
config produces it (rules/common.smk), and reruns when a module here changes.
"""

from . import corpus, figure_6_4, learning_rate_study, section_3, table_4_1, table_6, table_7_1, table_7_2

SECTIONS = (
    corpus.SECTION,
    table_6.TABLE_6_1,
    table_6.TABLE_6_2,
    figure_6_4.SECTION,
    table_7_1.SECTION,
    table_7_2.SECTION,
    learning_rate_study.SECTION,
    section_3.SECTION,
    table_4_1.SECTION,
)
