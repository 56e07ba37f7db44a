"""Building blocks of the synthetic demo corpus (entry point: `images_as_data.demo.corpus`).

- `drawing`: colours, fonts and pixel-level helpers shared by every scene.
- `people`: the synthetic cast (John Legend's stand-in, six world leaders, other people).
- `scenes`: one renderer per kind of picture, plus the visual cues behind evoked emotions.
- `plan`: the seeded plan of each picture (content, size, format, name, URL, shares),
  drawn before any pixel is drawn.
- `render`: from a plan to pixels, redrawing until the picture is distinct from earlier ones.
- `annotation`: synthetic annotators and the book's emotion-label rule.
- `encoding`: byte-deterministic encoders and file-level defects.
- `planted`: which duplicates and defects are planted, and their expected outcomes.
"""
