"""Request bodies of the curator write API: the field types the In Structs of the resource modules
are made of, their strict decoding, and the OpenAPI schema that states exactly what the decoder
accepts. The seed loader decodes the curated YAML records with the same decoder.

Litestar's default body handling decodes JSON into Python builtins first and then converts them
loosely (`strict=False`: `"5"` passes as an integer, `"true"` as a boolean), turns every JSON
number into a float (so a large `value` loses digits or overflows) and raises a bare
`RecursionError` on deeply nested input. The bodies here are decoded in one step, straight into
their Struct, with `strict=True` (`StrictJsonBody`, a minimal DTO), so:

- wrong JSON types, unknown fields, strings or lists longer than their declared maximum, and
  integers out of range are a 400 naming the field; malformed JSON, invalid UTF-8 and JSON
  nested deeper than the decoder allows are a 400 too;
- `value` is kept as its JSON text (`msgspec.Raw`) and read exactly: a JSON number, or a string
  holding a decimal number (`DECIMAL_PATTERN`); anything else there is a 422 on `value`;
- the body must be declared `application/json` (or `application/merge-patch+json` for PATCH),
  UTF-8 if a charset is given: anything else is a 415 (`json_body_guard`, before the body is
  read).

The OpenAPI components of these types get `additionalProperties: false`, the enumerations the
server checks, and the real type of `value`.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar

import msgspec
from litestar.connection import ASGIConnection
from litestar.dto import AbstractDTO, DTOFieldDefinition
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import OpenAPIType, Reference, Schema
from litestar.typing import FieldDefinition

from service.models import table_of
from service.web.errors import BadRequest, InvalidParam
from service.web.problems import ParamCode

# ---------------------------------------------------------------- field types

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
DECIMAL_PATTERN = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
DECIMAL_MAX_LENGTH = 40
MAX_OFFSET = 10_000_000  # far beyond any source page; keeps offsets inside every integer column


def fits(model: type[Any], column: str, min_length: int = 0) -> msgspec.Meta:
    """At most what the column holds: PostgreSQL refuses longer text with an error (a 500 if it
    got that far) where SQLite would store it, so the body is refused first, on both."""
    length = getattr(table_of(model).c[column].type, "length", None)
    assert isinstance(length, int), f"{model.__name__}.{column} has no length"
    return msgspec.Meta(min_length=min_length, max_length=length)


Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=SLUG_PATTERN)]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Long = Annotated[str, msgspec.Meta(max_length=4000)]
Notes = Annotated[list[Long], msgspec.Meta(max_length=50)]
Aliases = Annotated[list[Short], msgspec.Meta(max_length=50)]
NullReasons = Annotated[dict[Short, Long], msgspec.Meta(max_length=20)]


class SpanIn(msgspec.Struct, forbid_unknown_fields=True):
    """Character offsets (Unicode code points, end exclusive) into the document text."""

    # JSON Schema counts `5.0` as an integer, so an integral float is accepted (and made an int).
    start: int | float
    end: int | float

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            number = getattr(self, name)
            if isinstance(number, float):
                if not number.is_integer():
                    raise ValueError(f"`{name}` must be an integer")
                number = int(number)
                setattr(self, name, number)
            if not 0 <= number <= MAX_OFFSET:
                raise ValueError(f"`{name}` must be an integer from 0 to {MAX_OFFSET}")


class RepairIn(msgspec.Struct, forbid_unknown_fields=True):
    span: SpanIn
    note: Long


def patch_type(in_type: type[msgspec.Struct], name: str) -> type[msgspec.Struct]:
    """The merge-patch body: every field of the create body except `id`, all optional."""
    fields: list[tuple[str, Any, Any]] = []
    for f in msgspec.structs.fields(in_type):
        if f.name == "id":
            continue
        annotation = f.type
        if f.name == "null_reasons":
            # null removes a key (RFC 7386)
            annotation = Annotated[dict[Short, Long | None], msgspec.Meta(max_length=20)]
        fields.append((f.name, annotation | msgspec.UnsetType, msgspec.UNSET))
    module = in_type.__module__
    return msgspec.defstruct(name, fields, forbid_unknown_fields=True, module=module)


# ---------------------------------------------------------------- decoding


def _body_problem(detail: str, code: ParamCode, name: str = "body") -> BadRequest:
    return BadRequest(detail, [InvalidParam(name, detail, code, "body")])


# msgspec's validation messages, by what they mean (the first match wins).
_MESSAGE_CODES: tuple[tuple[str, ParamCode], ...] = (
    ("unknown field", "unknown_field"),
    ("missing required", "required"),
    ("length >=", "invalid_value"),
    ("length <=", "too_long"),
    ("matching", "invalid_value"),
    (">=", "out_of_range"),
    ("<=", "out_of_range"),
    ("invalid enum", "not_allowed"),
    ("expected `", "invalid_type"),
)


def _message_code(message: str) -> ParamCode:
    lowered = message.lower()
    return next((code for text, code in _MESSAGE_CODES if text in lowered), "invalid_value")


def decode_body(raw: bytes, body_type: type[msgspec.Struct]) -> Any:
    """The body as `body_type`, or a 400 naming what is wrong with it."""
    try:
        return msgspec.json.decode(raw, type=body_type, strict=True)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = re.search(r"at `\$\.?([^`]*)`", text)
        name = (match.group(1) if match else "") or "body"
        message = text.split(" - at ")[0]
        raise _body_problem(message, _message_code(message), name) from None
    except msgspec.DecodeError as exc:
        raise _body_problem(f"The body is not valid JSON: {exc}", "invalid_json") from None
    except RecursionError:
        raise _body_problem("The body is nested too deeply.", "too_deep") from None


def decimal_value(raw: msgspec.Raw) -> Decimal | None:
    """`value` as written: a JSON number, or a string of the same grammar (None if neither)."""
    text = bytes(raw)
    if text.startswith(b'"'):
        decoded = msgspec.json.decode(text)
        if not isinstance(decoded, str):
            return None
        text = decoded.encode()
    if len(text) > DECIMAL_MAX_LENGTH or re.fullmatch(DECIMAL_PATTERN.encode(), text) is None:
        return None
    try:
        return Decimal(text.decode())
    except InvalidOperation:
        return None


def wire_dict(body: msgspec.Struct, *, drop_unset: bool = False) -> dict[str, Any]:
    """A decoded body as builtins; `value` becomes its exact decimal text (or None when it is
    not a decimal, which the metric rules report as a 422)."""
    wire: dict[str, Any] = {}
    for name in body.__struct_fields__:
        value = getattr(body, name)
        if drop_unset and value is msgspec.UNSET:
            continue
        if isinstance(value, msgspec.Raw):
            number = decimal_value(value)
            wire[name] = None if number is None else str(number)
        else:
            wire[name] = msgspec.to_builtins(value)
    return wire


JSON_TYPES = ("application/json",)
MERGE_PATCH_TYPES = ("application/json", "application/merge-patch+json")


async def json_body_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """415 unless the body is declared as JSON (merge-patch JSON too on PATCH), UTF-8 if a
    charset is given. Runs after the API-key guard and before the body is read."""
    allowed = MERGE_PATCH_TYPES if connection.scope.get("method") == "PATCH" else JSON_TYPES
    media, _sep, params = (connection.headers.get("content-type") or "").partition(";")
    charset = re.search(r"charset\s*=\s*\"?([^\";\s]*)", params, re.IGNORECASE)
    if media.strip().lower() not in allowed or (
        charset is not None and charset.group(1).lower() not in ("utf-8", "utf8")
    ):
        raise HTTPException(
            status_code=415,
            detail=f"The body must be {' or '.join(allowed)} (UTF-8).",
            headers={"Accept-Patch": ", ".join(MERGE_PATCH_TYPES)}
            if allowed is MERGE_PATCH_TYPES
            else None,
        )


class StrictJsonBody(AbstractDTO[Any]):
    """Decodes a handler's `data` with `decode_body` into `body_type`, and documents it as
    that type's component schema (refined by `refine_schema`). Use `strict_body(...)`."""

    body_type: ClassVar[type[msgspec.Struct]]
    # What the rules accept beyond types, stated in the schema too (`refine_schema`).
    kinds: ClassVar[tuple[str, ...]]
    nullable: ClassVar[tuple[str, ...]]

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()  # no DTO backend: the body is decoded by `decode_bytes`

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        return None

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Reference | Schema:
        result: Reference | Schema = schema_creator.for_field_definition(
            FieldDefinition.from_annotation(cls.body_type)
        )
        for struct in (cls.body_type, *nested_structs(cls.body_type)):
            registered = schema_creator.schema_registry.get_schema_for_field_definition(
                FieldDefinition.from_annotation(struct)
            )
            refine_schema(registered, cls.kinds, cls.nullable)
        return result

    def decode_bytes(self, value: bytes) -> Any:
        return decode_body(value, self.body_type)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        raise HTTPException(status_code=415, detail="The body must be JSON.")


def nested_structs(struct: type[msgspec.Struct]) -> list[type[msgspec.Struct]]:
    """The Struct types inside a body's fields (lists, optionals and dicts looked through):
    their components are refined like the body's own."""
    found: list[type[msgspec.Struct]] = []

    def walk(info: msgspec.inspect.Type) -> None:
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls not in found:
                found.append(info.cls)
                for field in info.fields:
                    walk(field.type)
        elif isinstance(info, msgspec.inspect.UnionType):
            for member in info.types:
                walk(member)
        elif isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.DictType)):
            walk(info.item_type if isinstance(info, msgspec.inspect.ListType) else info.value_type)

    walk(msgspec.inspect.type_info(struct))
    return found[1:]


def strict_body(
    body_type: type[msgspec.Struct], kinds: tuple[str, ...], nullable: tuple[str, ...]
) -> type[StrictJsonBody]:
    attributes = {"body_type": body_type, "kinds": kinds, "nullable": nullable}
    return type(f"Strict{body_type.__name__}", (StrictJsonBody,), attributes)


VALUE_SCHEMA = Schema(
    one_of=[
        Schema(type=OpenAPIType.NUMBER),
        Schema(type=OpenAPIType.STRING, pattern=DECIMAL_PATTERN, max_length=DECIMAL_MAX_LENGTH),
    ],
    description="Value in base units, exactly as the quantity parser reads `raw`: a JSON "
    'number or a string holding one (`"134000000"`); read exactly, never through a float. '
    "A value that is not finite, has more than 40 characters or differs from the parser is "
    "a 422.",
)


# The text rule of service.curation.rules.text_problems as a pattern (ECMA and Python alike): no control
# character but tab, line feed and carriage return; not blank (empty is for optional fields).
TEXT_PATTERN = r"^(?!\s+$)[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"


def _declare_text_rule(schema: Any) -> None:
    """Give every free-text string in `schema` (nested arrays and maps too) `TEXT_PATTERN`.
    Documentation only: the server checks the rule itself and answers 422, not 400."""
    if not isinstance(schema, Schema) or schema.pattern is not None or schema.enum is not None:
        return  # slugs, decimals and enumerations have a rule of their own
    if schema.type == OpenAPIType.STRING:
        schema.pattern = TEXT_PATTERN
    for child in (*(schema.one_of or []), schema.items, schema.additional_properties):
        _declare_text_rule(child)


def refine_schema(schema: Schema, kinds: tuple[str, ...], nullable: tuple[str, ...]) -> None:
    """What the decoder enforces and the generated schema leaves out: no unknown fields, the
    exact type of `value`, the kinds and nullable fields the rules accept."""
    schema.additional_properties = False
    properties = schema.properties or {}
    if schema.title == "SpanIn":
        for name in ("start", "end"):
            properties[name] = Schema(type=OpenAPIType.INTEGER, minimum=0, maximum=MAX_OFFSET)
    if "value" in properties:
        properties["value"] = VALUE_SCHEMA
    kind = properties.get("kind")
    if isinstance(kind, Schema):
        kind.enum = list(kinds)
    reasons = properties.get("null_reasons")
    if isinstance(reasons, Schema):
        reasons.property_names = Schema(type=OpenAPIType.STRING, enum=list(nullable))
    for prop in properties.values():
        _declare_text_rule(prop)
