"""The subset of PostgREST (and Supabase's gateway in front of it) that the REST metadata store
uses, forwarding to a real PostgreSQL. PostgREST itself cannot be installed here; this server
answers as its documentation says and refuses what it does not implement, so a request the store
shapes wrongly fails the contract suite instead of passing quietly.

- Every request needs an `apikey` header and `Authorization: Bearer <JWT>` signed with the
  project's secret (HS256); the JWT's `role` becomes the transaction's role and its claims
  `request.jwt.claims`, as PostgREST does, so row-level security applies.
- `/rest/v1/<table>`: GET/HEAD with `select`, `order`, `limit` and the filters `eq`, `neq`, `lt`,
  `lte`, `gt`, `gte`, `is`, `in`, and `Prefer: count=exact` (answered in `Content-Range`); POST
  with `Prefer: resolution=merge-duplicates` or `ignore-duplicates` and `on_conflict`; PATCH with
  filters. Writes answer `Prefer: return=minimal` only, as the store asks.
- `/rest/v1/rpc/<function>`: POST with the named arguments as a JSON object.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import psycopg2
from psycopg2 import sql
from psycopg2.extras import Json

NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
OPERATORS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
RESERVED = {"select", "order", "limit", "on_conflict", "columns"}
# PostgREST's HTTP status for Postgres error classes (its documented mapping, the ones met here).
STATUS = {"23503": 409, "23505": 409, "42501": 403, "42P01": 404, "42883": 404, "P0002": 404}


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    body: Any


def _name(value: str) -> sql.Identifier:
    if not NAME.match(value):
        raise Refused(400, "PGRST100", f"not a column or table name: {value!r}")
    return sql.Identifier(value)


def _in_list(value: str) -> tuple[str, ...]:
    if not (value.startswith("(") and value.endswith(")")):
        raise Refused(400, "PGRST100", f"in. needs a parenthesised list: {value!r}")
    return tuple(item.strip('"') for item in value[1:-1].split(",") if item)


def _where(filters: list[tuple[str, str]]) -> tuple[sql.Composable, list[Any]]:
    clauses, params = [], []
    for column, expression in filters:
        op, _, value = expression.partition(".")
        if op in OPERATORS:
            clauses.append(sql.SQL("{} {} %s").format(_name(column), sql.SQL(OPERATORS[op])))
            params.append(value)
        elif op == "is" and value in ("null", "true", "false"):
            clauses.append(sql.SQL("{} is {}").format(_name(column), sql.SQL(value)))
        elif op == "in":
            items = _in_list(value)
            clauses.append(sql.SQL("{} in %s").format(_name(column)) if items else sql.SQL("false"))
            params.extend([items] if items else [])
        else:
            raise Refused(400, "PGRST100", f"unsupported filter {column}={expression}")
    if not clauses:
        return sql.SQL(""), params
    return sql.SQL(" where ") + sql.SQL(" and ").join(clauses), params


def _select_list(value: str) -> sql.Composable:
    if value == "*":
        return sql.SQL("*")
    return sql.SQL(", ").join(_name(c) for c in value.split(","))


def _order(value: str) -> sql.Composable:
    terms = []
    for term in value.split(","):
        column, _, direction = term.partition(".")
        if direction not in ("", "asc", "desc"):
            raise Refused(400, "PGRST100", f"unsupported order {term!r}")
        terms.append(sql.SQL("{} {}").format(_name(column), sql.SQL(direction or "asc")))
    return sql.SQL(" order by ") + sql.SQL(", ").join(terms)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the contract's concurrency test opens 20 connections at once
    daemon_threads = True


class FakePostgrest:
    def __init__(self, dsn: str, jwt_secret: str) -> None:
        self.dsn, self.jwt_secret = dsn, jwt_secret
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakePostgrest:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def key(self, role: str, sub: str | None = None) -> str:
        claims = {"role": role, "iss": "supabase"} | ({"sub": sub} if sub else {})
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # the test's output is not an access log
                return

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    body = json.loads(raw) if raw else None
                    request = Request(
                        self.command, parts.path, tuple(parse_qsl(parts.query, keep_blank_values=True)), headers, body
                    )
                    with fake._lock:
                        fake.requests.append(request)
                    status, extra, payload = fake.serve(request)
                except Refused as exc:
                    status, extra = exc.status, {}
                    payload = {"code": exc.code, "message": exc.message, "details": None, "hint": None}
                except json.JSONDecodeError as exc:
                    status, extra = 400, {}
                    payload = {
                        "code": "PGRST102",
                        "message": f"invalid JSON body: {exc}",
                        "details": None,
                        "hint": None,
                    }
                data = b"" if payload is None or self.command == "HEAD" else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PATCH = _answer

        return Handler

    # --- one request ----------------------------------------------------------------------------

    def _claims(self, headers: dict[str, str]) -> dict[str, Any]:
        if "apikey" not in headers:
            raise Refused(401, "PGRST301", "no apikey header")
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            raise Refused(401, "PGRST301", "no Authorization: Bearer token")
        try:
            return jwt.decode(token, self.jwt_secret, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.PyJWTError as exc:
            raise Refused(401, "PGRST301", f"JWT invalid: {exc}") from None

    def serve(self, request: Request) -> tuple[int, dict[str, str], Any]:
        claims = self._claims(request.headers)
        segments = request.path.split("/")
        if segments[:3] != ["", "rest", "v1"] or len(segments) not in (4, 5):
            raise Refused(404, "PGRST125", f"no route {request.path}")
        prefer = {p.strip() for p in request.headers.get("prefer", "").split(",") if p.strip()}
        conn = psycopg2.connect(self.dsn)
        try:
            with conn, conn.cursor() as cur:  # one transaction, committed when the block ends
                cur.execute(sql.SQL("set local role {}").format(_name(claims.get("role", "anon"))))
                cur.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
                if len(segments) == 5 and segments[3] == "rpc" and request.method == "POST":
                    return self._rpc(cur, segments[4], request.body or {})
                if len(segments) == 4:
                    return self._table(cur, segments[3], request, prefer)
                raise Refused(405, "PGRST117", f"unsupported {request.method} {request.path}")
        except psycopg2.Error as exc:
            raise Refused(STATUS.get(exc.pgcode or "", 400), exc.pgcode or "", str(exc).strip()) from None
        finally:
            conn.close()

    def _rpc(self, cur: Any, function: str, args: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        cur.execute("select prorettype::regtype::text from pg_proc where proname = %s", (function,))
        found = cur.fetchone()
        if found is None:
            raise Refused(404, "PGRST202", f"no function {function}")
        call = sql.SQL("{}({})").format(
            _name(function),
            sql.SQL(", ").join(sql.SQL("{} := %s").format(_name(name)) for name in args),
        )
        values = [Json(v) if isinstance(v, dict | list) else v for v in args.values()]
        if found[0] == "void":
            cur.execute(sql.SQL("select ") + call, values)
            return 204, {}, None
        cur.execute(sql.SQL("select to_json(") + call + sql.SQL(")"), values)
        return 200, {}, cur.fetchone()[0]

    def _table(self, cur: Any, table: str, request: Request, prefer: set[str]) -> tuple[int, dict[str, str], Any]:
        params = dict(p for p in request.query if p[0] in RESERVED)
        where, values = _where([p for p in request.query if p[0] not in RESERVED])
        name = _name(table)
        if request.method in ("GET", "HEAD"):
            query = sql.SQL("select {} from {}").format(_select_list(params.get("select", "*")), name) + where
            if "order" in params:
                query += _order(params["order"])
            if "limit" in params:
                query += sql.SQL(" limit {}").format(sql.Literal(int(params["limit"])))
            cur.execute(sql.SQL("select coalesce(json_agg(_r), '[]'::json) from (") + query + sql.SQL(") _r"), values)
            rows = cur.fetchone()[0]
            extra = {}
            if "count=exact" in prefer:
                cur.execute(sql.SQL("select count(*) from {}").format(name) + where, values)
                extra["Content-Range"] = f"0-{max(len(rows) - 1, 0)}/{cur.fetchone()[0]}"
            return 200, extra, rows
        if "return=minimal" not in prefer:
            raise Refused(400, "PGRST100", "writes here answer only Prefer: return=minimal")
        if request.method == "POST":
            rows = request.body if isinstance(request.body, list) else [request.body]
            columns = [c.strip('"') for c in params["columns"].split(",")] if "columns" in params else list(rows[0])
            cols = sql.SQL(", ").join(_name(c) for c in columns)
            query = sql.SQL("insert into {t} ({c}) select {c} from json_populate_recordset(null::{t}, %s)").format(
                t=name, c=cols
            )
            resolution = {p for p in prefer if p.startswith("resolution=")}
            if resolution:
                if "on_conflict" not in params:
                    raise Refused(400, "PGRST100", "an upsert here needs on_conflict")
                target = sql.SQL(", ").join(_name(c) for c in params["on_conflict"].split(","))
                if resolution == {"resolution=merge-duplicates"}:
                    sets = sql.SQL(", ").join(sql.SQL("{c} = excluded.{c}").format(c=_name(c)) for c in columns)
                    query += sql.SQL(" on conflict ({}) do update set {}").format(target, sets)
                elif resolution == {"resolution=ignore-duplicates"}:
                    query += sql.SQL(" on conflict ({}) do nothing").format(target)
                else:
                    raise Refused(400, "PGRST100", f"unsupported {resolution}")
            cur.execute(query, [Json(rows)])
            return 201, {}, None
        if request.method == "PATCH":
            cols = sql.SQL(", ").join(_name(c) for c in request.body)
            query = sql.SQL("update {t} set ({c}) = (select {c} from json_populate_record(null::{t}, %s))").format(
                t=name, c=cols
            )
            cur.execute(query + where, [Json(request.body), *values])
            return 204, {"Content-Range": f"*/{cur.rowcount}"} if "count=exact" in prefer else {}, None
        raise Refused(405, "PGRST117", f"unsupported method {request.method}")
