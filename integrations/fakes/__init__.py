"""Local fake trackers for tests and benches: they validate every request against the real API descriptions
in ../shared/specs/trackers and inject faults. Dev-only: they import graphql-core and jsonschema."""
