"""How much one list request may ask for: `params` enforces these bounds and `openapi` states
them, so the document and the parser cannot drift apart."""

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_IN_VALUES = 100
MAX_SORT_KEYS = 4
MAX_VALUE_LENGTH = 200
MAX_FACET_VALUES = 50
