"""Every audit event, key and coded value the code can record has a label in both languages.

The trail's pages show labels, never program codes. The actions and keys are found by reading
the source: every call that records an event (``audit.record``, ``audit.record_many``) and
what it passes as the action and as ``before``/``after``, following a variable back to the
calls that give it a value and a helper call into the helper that builds the snapshot. What
cannot be read statically (a snapshot built from a field list) is listed from that list.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale

from registry.auth.actor import Actor
from registry.choices import LABELS
from registry.exports.formats import ExportMeta
from registry.exports.records import RecordFilter
from registry.fields import AUDIT_KEY_LABELS, SYSTEM_FIELD_LABELS, has_label
from registry.filters import SystemFilter
from registry.models.system import EDITABLE_FIELDS
from registry.services import audit
from registry.services.exports import RECORD_KINDS
from registry.services.seed import SeedReport
from registry.services.usage import USAGE_FIELDS
from registry.services.workflow import ACTIONS as WORKFLOW_ACTIONS
from registry.web.audit_display import VALUE_LABELS, VOCABULARY_OF
from registry.web.templating import VOCABULARIES

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "registry" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
RECORDERS = {"record", "record_many"}

FORMATTED_PARTS = {
    # The values an f-string's placeholder takes in an action name, by the expression's text.
    "step.action": WORKFLOW_ACTIONS,
    "kind": frozenset(RECORD_KINDS),
}


def _seed_kinds() -> frozenset[str]:
    """What the demo loader counts (its ``seed.load`` event records a count of each)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(SeedReport.summary)))
    return frozenset(
        element.value
        for node in ast.walk(tree)
        if isinstance(node, ast.List)
        for element in node.elts
        if isinstance(element, ast.Constant) and isinstance(element.value, str)
    )


_LIST_FILTERS = frozenset(
    SystemFilter(
        q="x",
        statuses=["x"],
        agency="x",
        agency_role="owner",
        level="x",
        capability="x",
        shared="x",
        block="x",
        severity="x",
        warnings="x",
        sort="-name",
    ).to_args(page="", per_page="")
)
_RECORD_FILTERS = frozenset(
    RecordFilter(
        since=date(2026, 1, 1), until=date(2026, 2, 1), statuses=["x"], agency_id=1, owner_ids=(1,)
    ).describe()
)
UNREADABLE: dict[str, frozenset[str]] = {
    # Keys taken from data rather than written out, by the text of the expression that holds
    # them (for a comprehension, of what it iterates over): the list they come from.
    "InformationSystem.EDITABLE_FIELDS": frozenset(EDITABLE_FIELDS),
    "USAGE_FIELDS": frozenset(USAGE_FIELDS),
    "scope.flt.to_args(page='', per_page='', sort='').items()": _LIST_FILTERS,
    "(('since', since), ('until', until))": frozenset({"since", "until"}),
    "meta.filters": _LIST_FILTERS | _RECORD_FILTERS | {"as_of", "code", "owner_agency_id"},
    "meta.unit": frozenset(RECORD_KINDS) | {ExportMeta.unit, "events"},
    "report.created": _seed_kinds(),
}


class _Module:
    def __init__(self, path: Path):
        self.path = path
        self.name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.functions = {
            node.name: node
            for node in ast.walk(self.tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }


def _modules() -> list[_Module]:
    return [_Module(path) for path in sorted((ROOT / "registry").rglob("*.py"))]


def _is_recorder(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr in RECORDERS and isinstance(func.value, ast.Name) and func.value.id == "audit"
    return False


def _argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def _enclosing(module: _Module, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for function in module.functions.values():
        if any(child is node for child in ast.walk(function)):
            return function
    return None


def _actions_of(module: _Module, expr: ast.expr, site: ast.AST, depth: int = 0) -> Iterator[str]:
    """The action names ``expr`` can hold; a failure names what could not be followed."""
    where = f"{module.path.relative_to(ROOT)}:{getattr(expr, 'lineno', '?')}"
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        yield expr.value
    elif isinstance(expr, ast.JoinedStr):
        prefix = "".join(str(v.value) for v in expr.values if isinstance(v, ast.Constant))
        parts = [ast.unparse(v.value) for v in expr.values if isinstance(v, ast.FormattedValue)]
        assert len(parts) == 1 and parts[0] in FORMATTED_PARTS, (
            f"{where}: the action {ast.unparse(expr)} is built from {parts}; list the values it takes "
            "in FORMATTED_PARTS in tests/test_audit_labels.py"
        )
        yield from (prefix + value for value in sorted(FORMATTED_PARTS[parts[0]]))
    elif isinstance(expr, ast.Name) and depth < 3:
        function = _enclosing(module, site)
        names = [a.arg for a in function.args.args] if function else []
        assert expr.id in names, f"{where}: cannot tell which actions {expr.id} holds"
        position = names.index(expr.id)
        callers = [
            node
            for node in ast.walk(module.tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == function.name
        ]
        assert callers, f"{where}: nothing calls {function.name} in this module"
        for call in callers:
            given = _argument(call, position, expr.id)
            assert given is not None, f"{where}: a call of {function.name} passes no {expr.id}"
            yield from _actions_of(module, given, call, depth + 1)
    else:
        raise AssertionError(f"{where}: cannot tell which actions {ast.unparse(expr)} holds")


def _recording_calls() -> Iterator[tuple[_Module, ast.Call]]:
    for module in _modules():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and _is_recorder(node):
                yield module, node


def recorded_actions() -> set[str]:
    found: set[str] = set()
    for module, call in _recording_calls():
        if call.func.attr == "record":  # type: ignore[attr-defined]
            action = _argument(call, 2, "action")
            assert action is not None
            found.update(_actions_of(module, action, call))
        else:
            for node in ast.walk(call):
                if isinstance(node, ast.Dict):
                    for key, value in zip(node.keys, node.values, strict=True):
                        if isinstance(key, ast.Constant) and key.value == "action":
                            found.update(_actions_of(module, value, call))
    return found


class _Keys:
    """Follows ``before``/``after`` back through variables and helpers to the keys they hold."""

    def __init__(self, modules: list[_Module]):
        self.modules = modules
        self.helpers = {name: (m, f) for m in modules for name, f in m.functions.items()}
        self.seen: set[int] = set()

    def of(self, expr: ast.expr | None, module: _Module, function: ast.AST | None) -> set[str]:
        where = f"{module.path.relative_to(ROOT)}:{getattr(expr, 'lineno', '?')}"
        text = ast.unparse(expr) if expr is not None else ""
        if expr is None or (isinstance(expr, ast.Constant) and expr.value is None):
            return set()
        if text in UNREADABLE:
            return set(UNREADABLE[text])
        if isinstance(expr, ast.Dict):
            keys: set[str] = set()
            for key, value in zip(expr.keys, expr.values, strict=True):
                if key is None:
                    keys |= self.of(value, module, function)
                    continue
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    keys.add(key.value)
                else:
                    keys |= self.of(key, module, function)
                if isinstance(value, ast.Dict | ast.Name | ast.Attribute):
                    keys |= self._nested(value, module, function)
            return keys
        if isinstance(expr, ast.DictComp):
            source = ast.unparse(expr.generators[0].iter)
            assert source in UNREADABLE, (
                f"{where}: cannot tell which keys {text} holds; list them under {source!r} in "
                "UNREADABLE in tests/test_audit_labels.py"
            )
            return set(UNREADABLE[source])
        if isinstance(expr, ast.List) and not expr.elts:
            return set()  # a list of events filled below
        if isinstance(expr, ast.IfExp):
            return self.of(expr.body, module, function) | self.of(expr.orelse, module, function)
        if isinstance(expr, ast.Name):
            return self._variable(expr.id, module, function, where)
        if isinstance(expr, ast.Call):
            name = expr.func.attr if isinstance(expr.func, ast.Attribute) else getattr(expr.func, "id", "")
            if name == "changes":  # audit.changes(before, after): the keys of either
                return set().union(*(self.of(arg, module, function) for arg in expr.args))
            if name == "dict":
                return {k.arg for k in expr.keywords if k.arg}
            if name in self.helpers:
                helper_module, helper = self.helpers[name]
                returns = [n.value for n in ast.walk(helper) if isinstance(n, ast.Return)]
                return set().union(*(self.of(r, helper_module, helper) for r in returns))
        raise AssertionError(
            f"{where}: cannot tell which keys {text} holds; list them under {text!r} in UNREADABLE "
            "in tests/test_audit_labels.py"
        )

    def _nested(self, value: ast.expr, module: _Module, function: ast.AST | None) -> set[str]:
        """The keys of a value that may be a mapping (an export's filters) or may be text."""
        try:
            return self.of(value, module, function)
        except AssertionError:
            return set()  # not a mapping it can follow; recording still checks what it holds

    def _variable(self, name: str, module: _Module, function: ast.AST | None, where: str) -> set[str]:
        assert function is not None, f"{where}: {name} is not a local variable"
        keys: set[str] = set()
        found = False
        for node in ast.walk(function):
            if id(node) in self.seen:
                continue
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        found = True
                        self.seen.add(id(node))
                        keys |= self.of(node.value, module, function)
                        self.seen.discard(id(node))
                    elif isinstance(target, ast.Tuple) and any(
                        isinstance(e, ast.Name) and e.id == name for e in target.elts
                    ):
                        found = True
                        value = node.value
                        if isinstance(value, ast.Tuple):  # a, b = x, y
                            names = [e.id if isinstance(e, ast.Name) else "" for e in target.elts]
                            value = value.elts[names.index(name)]
                        keys |= self.of(value, module, function)
                    elif (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == name
                        and isinstance(target.slice, ast.Constant)
                    ):
                        keys.add(str(target.slice.value))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == name
            ):
                if node.func.attr == "update":
                    keys |= {k.arg for k in node.keywords if k.arg}
                elif node.func.attr == "append":  # a list of events for record_many
                    found = True
                    for event in node.args:
                        for key in ("before", "after"):
                            keys |= self.of(_entry(event, key), module, function)
        if not found and isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            assert name not in [a.arg for a in function.args.args + function.args.kwonlyargs], (
                f"{where}: cannot tell which keys the parameter {name} holds; list them under "
                f"{name!r} in UNREADABLE in tests/test_audit_labels.py"
            )
        return keys


def _entry(expr: ast.expr, key: str) -> ast.expr | None:
    if isinstance(expr, ast.Dict):
        for k, v in zip(expr.keys, expr.values, strict=True):
            if isinstance(k, ast.Constant) and k.value == key:
                return v
    return None


def recorded_keys() -> set[str]:
    """Every key the recording calls can put in ``before``/``after`` (nested ones too)."""
    modules = _modules()
    reader = _Keys(modules)
    found: set[str] = set()
    for module, call in _recording_calls():
        function = _enclosing(module, call)
        if call.func.attr == "record":  # type: ignore[attr-defined]
            for keyword in call.keywords:
                if keyword.arg in ("before", "after"):
                    found |= reader.of(keyword.value, module, function)
        else:
            events = _argument(call, 2, "events")
            if isinstance(events, ast.GeneratorExp | ast.ListComp):
                events = events.elt
                for key in ("before", "after"):
                    found |= reader.of(_entry(events, key), module, function)
            elif isinstance(events, ast.Name):
                found |= reader.of(events, module, function)
            else:
                raise AssertionError(f"{module.path}: cannot read the events {ast.unparse(events)}")
    return found


def _catalog() -> dict[str, str]:
    with open(CATALOG, "rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id and not m.fuzzy}


def _missing_translation(label: object, catalog: dict[str, str]) -> bool:
    with force_locale("en"):
        english = str(label)
    return not english or not catalog.get(english)


ADD_TRANSLATION = (
    "run the README's pybabel extract and update, then give it a Vietnamese msgstr in "
    "registry/translations/vi/LC_MESSAGES/messages.po and compile"
)


def test_the_source_scan_finds_the_known_actions_and_keys():
    actions, keys = recorded_actions(), recorded_keys()
    assert {"system.create", "system.submit", "system.request_changes", "warning.dispose"} <= actions
    assert {"export.inventory", "export.decisions", "export.audit_trail", "import.commit"} <= actions
    assert {"reason", "reuse", "disposition", "score", "status", "round_status", "legal_basis"} <= keys


def test_every_recorded_action_has_a_label_in_both_languages(app: Flask):
    catalog = _catalog()
    unlabelled = sorted(recorded_actions() - set(audit.ACTION_LABELS))
    assert unlabelled == [], (
        f"audit actions without a label: {unlabelled}; add each to ACTION_LABELS in "
        "registry/services/audit.py"
    )
    with app.app_context():
        untranslated = [a for a, label in audit.ACTION_LABELS.items() if _missing_translation(label, catalog)]
    assert untranslated == [], f"audit actions without a Vietnamese label: {untranslated}; {ADD_TRANSLATION}"


def recorded_object_types() -> set[str]:
    found: set[str] = set()
    for _module, call in _recording_calls():
        for node in ast.walk(call):
            if isinstance(node, ast.keyword) and node.arg == "object_type":
                found.add(ast.literal_eval(node.value))
            elif isinstance(node, ast.Dict):
                found.update(
                    ast.literal_eval(v)
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == "object_type"
                )
    return found


def test_every_recorded_object_type_has_a_label_in_both_languages(app: Flask):
    catalog = _catalog()
    types = recorded_object_types()
    assert {"system", "warning", "export", "portfolio"} <= types
    unlabelled = sorted(types - set(audit.OBJECT_TYPE_LABELS))
    assert unlabelled == [], (
        f"audit object types without a label: {unlabelled}; add each to OBJECT_TYPE_LABELS in "
        "registry/services/audit.py"
    )
    with app.app_context():
        labels = audit.OBJECT_TYPE_LABELS.items()
        untranslated = [t for t, label in labels if _missing_translation(label, catalog)]
    assert untranslated == [], (
        f"audit object types without a Vietnamese label: {untranslated}; {ADD_TRANSLATION}"
    )


def test_every_recorded_key_has_a_label_in_both_languages(app: Flask):
    catalog = _catalog()
    unlabelled = sorted(k for k in recorded_keys() if not has_label(k))
    assert unlabelled == [], (
        f"audit keys without a label: {unlabelled}; add each to AUDIT_KEY_LABELS in registry/fields.py"
    )
    with app.app_context():
        labels = {**SYSTEM_FIELD_LABELS, **AUDIT_KEY_LABELS}
        untranslated = sorted(k for k in recorded_keys() if _missing_translation(labels[k], catalog))
    assert untranslated == [], f"audit keys without a Vietnamese label: {untranslated}; {ADD_TRANSLATION}"


def test_every_coded_value_has_a_label_in_both_languages(app: Flask):
    """The codes a key can hold (statuses, dispositions, filter choices) are shown by label."""
    catalog = _catalog()
    assert {"status", "disposition", "level", "role", "outcome", "round_status"} <= set(VOCABULARY_OF)
    untranslated = []
    with app.app_context():
        for key, vocabulary in VOCABULARY_OF.items():
            enum = VOCABULARIES[vocabulary]
            labels = LABELS[enum]
            untranslated += [f"{key}={m.value}" for m in enum if _missing_translation(labels[m], catalog)]
        for key, labels in VALUE_LABELS.items():
            untranslated += [
                f"{key}={v}" for v, label in labels.items() if _missing_translation(label, catalog)
            ]
    assert untranslated == [], f"coded values without a Vietnamese label: {untranslated}; {ADD_TRANSLATION}"


@pytest.mark.parametrize(
    ("action", "after", "where"),
    [
        ("system.teleport", {"status": "draft"}, "ACTION_LABELS in registry/services/audit.py"),
        ("system.update", {"warp_factor": 9}, "AUDIT_KEY_LABELS in registry/fields.py"),
        ("export.inventory", {"filters": {"warp_factor": 9}}, "AUDIT_KEY_LABELS in registry/fields.py"),
    ],
)
def test_recording_refuses_what_has_no_label(app: Flask, session, action, after, where):
    actor = Actor(user_id=None, label="test", role="admin", agency_id=None)
    with pytest.raises(audit.UnlabelledAuditEvent, match=where):
        audit.record(session, actor, action, object_type="system", object_id="X", after=after)
    with pytest.raises(audit.UnlabelledAuditEvent, match=where):
        audit.record_many(
            session, actor, [{"action": action, "object_type": "s", "object_id": 1, "after": after}]
        )
