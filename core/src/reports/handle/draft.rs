//! The life of a report on its author's phone: a draft with autosave, its position, the
//! check before submission, submission into the outbox, withdrawal, and deleting a draft
//! (the only way a report disappears).

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::error::{Error, Result};
use crate::geo::District;
use crate::reports::document::{self, REPORT_KIND};
use crate::reports::model::{
    MAX_ADDRESS_CHARS, MAX_DESCRIPTION_CHARS, MAX_MERCHANT_NAME_CHARS, MAX_REASON_CHARS,
    check_author, check_district, check_text, not_found, require_author, require_draft, rfc3339,
};
use crate::reports::outbox::load;
use crate::reports::{
    Category, DISTRICT_FROM_STATION_WITHIN_M, PositionFix, Report, ReportCheck, ReportId,
    ReportPatch, ReportRules, ReportStatus, Reports, evidence, index,
};
use crate::stations::StationFilter;
use crate::store::documents::{self, DocumentKey};

impl Reports<'_> {
    /// Creates a draft report by `author` in `category` (a code such as `food.seal`) and
    /// returns its new id. The draft is stored durably before this returns.
    pub fn create_draft(&self, author: &str, category: &str) -> Result<ReportId> {
        check_author(author)?;
        let category: Category = category.parse()?;
        let now = self.now();
        let id = ReportId::generate(now)?;
        let doc_id = id.doc_id();
        let key = DocumentKey {
            doc_id: &doc_id,
            kind: REPORT_KIND,
            owner: author,
        };
        self.ws.ensure_report_index()?;
        documents::edit_then(
            &mut self.store().write(),
            &key,
            now,
            || document::genesis(&id, author, category, now),
            |_| Ok(()),
            index::after_report_edit,
        )?;
        Ok(id)
    }

    /// Applies `patch` to a draft, durably (autosave), and returns the updated draft. Input
    /// over a limit, an unknown category or a report that is no longer a draft is refused and
    /// changes nothing.
    pub fn update_draft(&self, id: &str, patch: &ReportPatch) -> Result<Report> {
        let id = ReportId::parse(id)?;
        let category = patch
            .category
            .as_deref()
            .map(str::parse::<Category>)
            .transpose()?;
        let texts = [
            (
                "description",
                &patch.description,
                MAX_DESCRIPTION_CHARS,
                true,
            ),
            (
                "merchant_name",
                &patch.merchant_name,
                MAX_MERCHANT_NAME_CHARS,
                false,
            ),
            (
                "merchant_address",
                &patch.merchant_address,
                MAX_ADDRESS_CHARS,
                false,
            ),
            ("address", &patch.address, MAX_ADDRESS_CHARS, false),
        ];
        for (field, value, max, multiline) in &texts {
            if let Some(v) = value {
                check_text(field, v, *max, *multiline)?;
            }
        }
        let district = patch.district.as_deref().map(str::trim);
        if let Some(code) = district.filter(|c| !c.is_empty()) {
            check_district(code)?;
        }
        self.edit(&id, |doc, report| {
            require_draft(report, "edited")?;
            if let Some(c) = category {
                document::put_category(doc, c)?;
            }
            if let Some(code) = district {
                document::put_district(doc, code)?;
            }
            for (field, value, _, _) in &texts {
                if let Some(v) = value {
                    document::put_text(doc, field, v.trim())?;
                }
            }
            // Still a draft, so no outbox state: read the edited document here rather than
            // loading it again after the commit.
            document::read(doc)
        })
    }

    /// Records where a draft was made, durably. The fix's coordinates are in its datum (as the
    /// shell got them) and stored in WGS-84 beside the source datum. An accuracy of `None` is
    /// "accuracy unknown". Mock fixes are kept and flagged. Invalid coordinates, accuracies and
    /// future fix times are refused and change nothing.
    pub fn set_position(&self, id: &str, fix: &PositionFix) -> Result<Report> {
        let id = ReportId::parse(id)?;
        let position = evidence::checked_position(
            fix.lat,
            fix.lon,
            fix.datum,
            fix.accuracy_m,
            fix.fix_time,
            fix.mock,
            self.now(),
        )?;
        self.edit(&id, |doc, report| {
            require_draft(report, "edited")?;
            if report.position.as_ref() != Some(&position) {
                document::put_position(doc, &position)?;
            }
            document::read(doc)
        })
    }

    /// A report by id, with its outbox state once submitted.
    pub fn get(&self, id: &str) -> Result<Report> {
        let id = ReportId::parse(id)?;
        load(&self.store().read(), &id)?.ok_or_else(|| not_found(&id))
    }

    /// Every report by `author` on this device (drafts, submitted, withdrawn), newest first.
    pub fn by_author(&self, author: &str) -> Result<Vec<Report>> {
        self.reports_in(author, None)
    }

    /// `author`'s reports in `status` (all when `None`), found through the index, newest first.
    fn reports_in(&self, author: &str, status: Option<ReportStatus>) -> Result<Vec<Report>> {
        let ids = self.indexed_ids(author, status)?;
        let conn = self.store().read();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = load(&conn, &id)? {
                out.push(r);
            }
        }
        out.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(out)
    }

    /// `author`'s drafts, newest first.
    pub fn drafts(&self, author: &str) -> Result<Vec<Report>> {
        self.reports_in(author, Some(ReportStatus::Draft))
    }

    /// Deletes a draft. Only a draft can be deleted, and only by its author; anything else is
    /// refused and nothing changes. This is the only way a report disappears.
    pub fn delete_draft(&self, author: &str, id: &str) -> Result<()> {
        check_author(author)?;
        let id = ReportId::parse(id)?;
        let doc_id = id.doc_id();
        let mut conn = self.store().write();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let owner: Option<String> = tx
            .query_row(
                "SELECT owner FROM documents WHERE doc_id = ?1 AND kind = ?2",
                params![doc_id, REPORT_KIND],
                |r| r.get(0),
            )
            .optional()?;
        let owner = owner.ok_or_else(|| not_found(&id))?;
        if owner != author {
            return Err(Error::invalid(format!(
                "report '{id}' belongs to another author; only its author can delete a draft"
            )));
        }
        let doc = documents::load(&tx, &doc_id)?.ok_or_else(|| not_found(&id))?;
        let draft = document::read(&doc)?;
        require_draft(&draft, "deleted")?;
        index::delete_row(&tx, &id)?;
        tx.execute("DELETE FROM document_changes WHERE doc_id = ?1", [&doc_id])?;
        tx.execute("DELETE FROM documents WHERE doc_id = ?1", [&doc_id])?;
        tx.commit()?;
        drop(conn);
        // Its photos may now be named by nothing: the next sweep checks them.
        self.ws
            .photos_maybe_unnamed(draft.photos.iter().map(|p| p.sha256.as_str()));
        Ok(())
    }

    /// Everything that stops the report being submitted under `rules`, all at once, and the
    /// warnings to show the reporter.
    pub fn check(&self, id: &str, rules: &ReportRules) -> Result<ReportCheck> {
        rules.check()?;
        let report = self.get(id)?;
        let district = self.district_for(&report);
        Ok(evidence::check(&report, rules, district.as_deref()))
    }

    /// The district `report` carries or will carry: its own, else the district of the nearest
    /// installed red station within [`DISTRICT_FROM_STATION_WITHIN_M`] of its position whose
    /// code is one of Xi'an's; `None` when neither is known.
    fn district_for(&self, report: &Report) -> Option<String> {
        if let Some(d) = &report.district {
            return Some(d.clone());
        }
        let p = report.position.as_ref()?;
        let filter = StationFilter {
            max_distance_m: Some(DISTRICT_FROM_STATION_WITHIN_M),
            ..StationFilter::default()
        };
        self.ws
            .stations()
            .index()
            .within(
                p.lat,
                p.lon,
                DISTRICT_FROM_STATION_WITHIN_M,
                &filter,
                self.now(),
            )
            .into_iter()
            .find_map(|hit| District::by_code(&hit.station.district))
            .map(|d| d.code.to_string())
    }

    /// Submits `author`'s draft: checks it under `rules` (refusing with every problem listed),
    /// freezes it and puts it in the outbox as pending, durably. Submitting a report twice is
    /// refused; the id stays the same, so a retry can never create a second report.
    ///
    /// A draft without a district gets the nearest red station's (see [`Self::check`]).
    /// Just before the submission change the draft is rebuilt without history, in its own
    /// transaction (harmless if the submission then fails or the process dies in between), so
    /// the document sync sends is that one rebuilt change plus the submission.
    pub fn submit(&self, author: &str, id: &str, rules: &ReportRules) -> Result<Report> {
        check_author(author)?;
        rules.check()?;
        let id = ReportId::parse(id)?;
        let now = self.now();
        self.edit_compacting(&id, true, |_, _| Ok(()))?;
        self.edit(&id, |doc, report| {
            require_author(report, author, "submit")?;
            if let Some(at) = report.submitted_at {
                return Err(Error::invalid(format!(
                    "report '{id}' was already submitted at {}; it is in the outbox",
                    rfc3339(at)
                )));
            }
            let district = self.district_for(report);
            let check = evidence::check(report, rules, district.as_deref());
            if !check.can_submit() {
                return Err(Error::invalid(format!(
                    "report '{id}' cannot be submitted: {}",
                    check.summary()
                )));
            }
            if let Some(code) = district {
                document::put_district(doc, &code)?;
            }
            document::put_time(doc, "submitted_at", now)
        })?;
        self.get(id.as_str())
    }

    /// Withdraws `author`'s submitted report, with a reason, durably. The report is kept (and
    /// still synced); a draft cannot be withdrawn (delete it instead).
    pub fn withdraw(&self, author: &str, id: &str, reason: &str) -> Result<Report> {
        check_author(author)?;
        check_text("reason", reason, MAX_REASON_CHARS, true)?;
        let id = ReportId::parse(id)?;
        let now = self.now();
        self.edit(&id, |doc, report| {
            require_author(report, author, "withdraw")?;
            match report.status {
                ReportStatus::Draft => Err(Error::invalid(format!(
                    "report '{id}' is a draft; delete it instead of withdrawing it"
                ))),
                ReportStatus::Withdrawn => Err(Error::invalid(format!(
                    "report '{id}' is already withdrawn"
                ))),
                ReportStatus::Submitted => {
                    document::put_time(doc, "withdrawn_at", now)?;
                    if !reason.trim().is_empty() {
                        document::put_str(doc, "withdraw_reason", reason.trim())?;
                    }
                    Ok(())
                }
            }
        })?;
        self.get(id.as_str())
    }
}
