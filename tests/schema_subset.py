"""A validator for the JSON Schema subset xuan's grammar supports
(docs/serve.md), shared by the response_format and tool call tests."""


def resolve(root, ref):
    cur = root
    for seg in ref[2:].split("/") if ref != "#" else []:
        cur = cur[seg.replace("~1", "/").replace("~0", "~")]
    return cur


def validate(s, v, root, path="$"):
    """Raises ValueError where v does not satisfy s (the subset xuan supports)."""
    if s is True or s == {}:
        return
    if "$ref" in s:
        return validate(resolve(root, s["$ref"]), v, root, path)
    if "const" in s and v != s["const"]:
        raise ValueError(f"{path}: {v!r} is not const {s['const']!r}")
    if "enum" in s and v not in s["enum"]:
        raise ValueError(f"{path}: {v!r} not in enum")
    for k in ("anyOf", "oneOf"):
        if k in s:
            ok = 0
            for alt in s[k]:
                try:
                    validate(alt, v, root, path)
                    ok += 1
                except ValueError:
                    pass
            if ok == 0 or (k == "oneOf" and ok != 1):
                raise ValueError(f"{path}: {k} matched {ok} alternatives")
    t = s.get("type")
    if t is not None:
        ts = t if isinstance(t, list) else [t]
        kinds = {"object": dict, "array": list, "string": str, "boolean": bool}
        good = False
        for ty in ts:
            if ty == "null" and v is None: good = True
            elif ty == "integer" and isinstance(v, int) and not isinstance(v, bool): good = True
            elif ty == "number" and isinstance(v, (int, float)) and not isinstance(v, bool): good = True
            elif ty in kinds and isinstance(v, kinds[ty]) and not (ty != "boolean" and isinstance(v, bool)): good = True
        if not good:
            raise ValueError(f"{path}: {v!r} is not of type {t}")
    if isinstance(v, dict):
        props = s.get("properties", {})
        for r in s.get("required", []):
            if r not in v:
                raise ValueError(f"{path}: required {r!r} missing")
        add = s.get("additionalProperties", True)
        for k, x in v.items():
            if k in props:
                validate(props[k], x, root, f"{path}.{k}")
            elif add is False:
                raise ValueError(f"{path}: extra key {k!r}")
            else:
                validate(add, x, root, f"{path}.{k}")
    if isinstance(v, list):
        pre = s.get("prefixItems", [])
        if len(v) < s.get("minItems", 0) or len(v) > s.get("maxItems", 1 << 60):
            raise ValueError(f"{path}: {len(v)} items")
        for i, x in enumerate(v):
            it = pre[i] if i < len(pre) else s.get("items", True)
            if it is False:
                raise ValueError(f"{path}: item {i} beyond prefixItems")
            validate(it, x, root, f"{path}[{i}]")
    if isinstance(v, str):
        if len(v) < s.get("minLength", 0) or len(v) > s.get("maxLength", 1 << 60):
            raise ValueError(f"{path}: string of {len(v)} characters")
