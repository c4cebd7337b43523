//! Documents and the feed on PostgreSQL.

use super::{Col, PgTx, pg_error};
use crate::store::{
    DocAccess, DocRow, DocUpdate, Documents, FeedEntry, NewDoc, Reader, StoreError, position,
};

/// What `reader` may read, as SQL over `docs` (mirrors `policy::may_read`; rows are checked
/// with it again): parameters $1 user, $2 admin, $3 follow-up.
pub(super) const READABLE: &str = "(d.owner = $1 OR (d.kind IN ('report', 'case') AND \
     ($2 OR ($3 AND d.district IN (SELECT district FROM user_areas WHERE user_id = $1)))))";

fn access(r: &tokio_postgres::Row) -> Result<DocAccess, StoreError> {
    Ok(DocAccess {
        kind: r.col(0)?,
        owner: r.col(1)?,
        district: r.col(2)?,
    })
}

impl Documents for PgTx<'_> {
    fn doc(&self, doc_id: &str) -> Result<Option<DocRow>, StoreError> {
        // In a write transaction the row is locked until the commit: a second writer of the
        // same document (on any instance) waits, then reads what the first committed.
        let sql = if self.is_write() {
            "SELECT kind, owner, district, snapshot FROM docs WHERE doc_id = $1 FOR UPDATE"
        } else {
            "SELECT kind, owner, district, snapshot FROM docs WHERE doc_id = $1"
        };
        // The two statements go out together, one round trip. The server runs the second
        // after the first, lock wait included, and under READ COMMITTED with a snapshot of its
        // own, so it sees the changes the writer it waited for committed (one statement with
        // a subquery would read them from a snapshot taken before that commit).
        let client = self.client();
        let (row, changes) = self
            .store
            .block_on(self.after_begin(async {
                let doc = client.prepare_cached(sql).await?;
                let changes = client
                    .prepare_cached("SELECT change FROM doc_changes WHERE doc_id = $1 ORDER BY n")
                    .await?;
                let id: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&doc_id];
                let (row, changes) =
                    tokio::join!(client.query_opt(&doc, &id), client.query(&changes, &id));
                Ok((row?, changes?))
            }))
            .map_err(pg_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let changes = changes
            .iter()
            .map(|r| r.col::<Vec<u8>>(0))
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(DocRow {
            snapshot: row.col(3)?,
            changes,
            access: access(&row)?,
        }))
    }

    fn doc_access(&self, doc_id: &str) -> Result<Option<DocAccess>, StoreError> {
        self.query_opt(
            "SELECT kind, owner, district FROM docs WHERE doc_id = $1",
            &[&doc_id],
        )?
        .map(|r| access(&r))
        .transpose()
    }

    fn doc_heads(&self, doc_id: &str) -> Result<Option<(DocAccess, Vec<u8>)>, StoreError> {
        self.query_opt(
            "SELECT kind, owner, district, heads FROM docs WHERE doc_id = $1",
            &[&doc_id],
        )?
        .map(|r| Ok::<_, StoreError>((access(&r)?, r.col(3)?)))
        .transpose()
    }

    fn insert_doc(&self, d: &NewDoc<'_>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO docs (doc_id, kind, owner, district, report_category, snapshot, heads, \
             change_count, seq, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, NULL, $8)",
            &[
                &d.doc_id,
                &d.kind,
                &d.owner,
                &d.district,
                &d.category,
                &d.snapshot,
                &d.heads,
                &d.now,
            ],
        )?;
        self.place_at_commit(d.doc_id);
        Ok(())
    }

    fn append_changes(&self, u: &DocUpdate<'_>) -> Result<u64, StoreError> {
        // One statement: the changes numbered after the last kept one, and the document's
        // row. The caller holds the row's lock (`doc` in a write transaction), so no other
        // writer numbers changes of this document meanwhile.
        let added = u.changes.len() as i64;
        let count: i64 = self
            .query_one(
                "WITH last AS (SELECT COALESCE(MAX(n), 0) AS n FROM doc_changes \
                 WHERE doc_id = $1), \
                 added AS (INSERT INTO doc_changes (doc_id, n, change) \
                 SELECT $1, last.n + t.ord, t.change \
                 FROM last, unnest($8::bytea[]) WITH ORDINALITY AS t(change, ord)) \
                 UPDATE docs SET heads = $2, change_count = change_count + $3, updated_at = $4, \
                 owner = $5, district = $6, report_category = $7 \
                 WHERE doc_id = $1 RETURNING change_count",
                &[
                    &u.doc_id,
                    &u.heads,
                    &added,
                    &u.now,
                    &u.owner,
                    &u.district,
                    &u.category,
                    &u.changes,
                ],
            )?
            .col(0)?;
        self.place_at_commit(u.doc_id);
        Ok(position(count))
    }

    fn compact_doc(&self, doc_id: &str, snapshot: &[u8]) -> Result<(), StoreError> {
        self.execute(
            "UPDATE docs SET snapshot = $2, change_count = 0 WHERE doc_id = $1",
            &[&doc_id, &snapshot],
        )?;
        self.execute("DELETE FROM doc_changes WHERE doc_id = $1", &[&doc_id])?;
        Ok(())
    }

    fn set_report_photos(&self, report_id: &str, photos: &[String]) -> Result<(), StoreError> {
        // One statement: the links no longer named go, the new ones come (those kept are
        // left alone).
        self.execute(
            "WITH gone AS (DELETE FROM report_photos \
             WHERE report_id = $1 AND NOT (sha256 = ANY($2::text[]))) \
             INSERT INTO report_photos (report_id, sha256) \
             SELECT $1, sha FROM unnest($2::text[]) AS sha ON CONFLICT DO NOTHING",
            &[&report_id, &photos],
        )?;
        Ok(())
    }

    fn feed_position(&self) -> Result<u64, StoreError> {
        let last: i64 = self
            .query_one("SELECT last FROM feed_position WHERE id = 1", &[])?
            .col(0)?;
        Ok(position(last))
    }

    fn feed_head(&self) -> Result<(u64, String), StoreError> {
        let row = self.query_one(
            "SELECT f.last, m.generation FROM feed_position f, meta m WHERE f.id = 1 AND m.id = 1",
            &[],
        )?;
        Ok((position(row.col(0)?), row.col(1)?))
    }

    fn generation(&self) -> Result<String, StoreError> {
        self.query_one("SELECT generation FROM meta WHERE id = 1", &[])?
            .col(0)
    }

    fn mark_restored(&self) -> Result<String, StoreError> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes)
            .map_err(|e| StoreError::Failed(format!("no random numbers for a generation: {e}")))?;
        let generation: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.query_one(
            "UPDATE meta SET generation = $1 WHERE id = 1 RETURNING generation",
            &[&generation],
        )?
        .col(0)
    }

    fn feed(
        &self,
        reader: &Reader<'_>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        let columns = "SELECT d.kind, d.owner, d.district, d.doc_id, d.seq, d.heads, \
             (SELECT r.base FROM replaced_docs r WHERE r.doc_id = d.doc_id) FROM docs d";
        let (after, limit) = (after as i64, limit as i64);
        let rows = if !reader.admin && !reader.follow_up {
            // An account that reads only its own documents (a rider): the (owner, seq) index
            // holds its rows in feed order. The general rule's OR has the planner walk the
            // feed from the cursor instead, through every other account's documents written
            // since (EXPLAIN in docs/benchmarks.md, issue 14).
            let sql =
                format!("{columns} WHERE d.owner = $1 AND d.seq > $2 ORDER BY d.seq LIMIT $3");
            self.query(&sql, &[&reader.user, &after, &limit])?
        } else {
            let sql = format!("{columns} WHERE d.seq > $4 AND {READABLE} ORDER BY d.seq LIMIT $5");
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 5] = [
                &reader.user,
                &reader.admin,
                &reader.follow_up,
                &after,
                &limit,
            ];
            self.query(&sql, &params)?
        };
        rows.iter()
            .map(|r| {
                Ok(FeedEntry {
                    access: access(r)?,
                    doc_id: r.col(3)?,
                    position: position(r.col(4)?),
                    heads: r.col(5)?,
                    replaced: r.col(6)?,
                })
            })
            .collect::<Result<_, StoreError>>()
    }

    fn is_purged(&self, doc_id: &str) -> Result<bool, StoreError> {
        self.query_one(
            "SELECT EXISTS (SELECT 1 FROM purged_docs WHERE doc_id = $1)",
            &[&doc_id],
        )?
        .col(0)
    }

    fn replaced_base(&self, doc_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.query_opt(
            "SELECT base FROM replaced_docs WHERE doc_id = $1",
            &[&doc_id],
        )?
        .map(|r| r.col(0))
        .transpose()
    }
}
