//! Why an action was refused, in the console's language.
//!
//! The reasons come from code shared with the phones and the sync endpoint: the core's field
//! checks (`record_on_document`, `Error::InvalidInput` texts) and the sync policy's refusals
//! (`policy::check_case`, the integrity checks, the server's size bounds and `reach`). They are
//! English sentences, meant for logs and developers, and the same for every client; the core
//! carries no kinds for them. So the console sorts them into [`RefusalKind`]s here, by the
//! words each check writes, and gives each kind a Chinese sentence (and keeps the precise
//! English for `lang=en`). A reason it does not know is still shown: in Chinese, a general
//! sentence followed by the English original, so nothing is hidden.
//!
//! The tests below produce the reasons with the real core functions wherever the console can
//! reach them, so a reworded check shows up here as a failing test, not as English on a
//! Chinese page.

use super::super::i18n::{Key, Lang, t};

/// A text field of a case event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    /// The note.
    Note,
    /// A reject's reason.
    Reason,
    /// A dispatch's grid id.
    GridId,
}

impl Field {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Field::Note => lang.pick("备注", "the note"),
            Field::Reason => lang.pick("原因", "the reason"),
            Field::GridId => lang.pick("网格编号", "the grid id"),
        }
    }

    /// The field a reason starts with (after an optional "case event '<id>': ").
    fn named_in(reason: &str) -> Option<Field> {
        let rest = match reason.split_once("': ") {
            Some((head, rest)) if head.starts_with("case event '") => rest,
            _ => reason,
        };
        [
            ("note ", Field::Note),
            ("reason ", Field::Reason),
            ("grid_id ", Field::GridId),
        ]
        .into_iter()
        .find_map(|(p, f)| rest.starts_with(p).then_some(f))
    }
}

/// What kind of refusal a reason is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefusalKind {
    /// A text field over its length.
    TooLong(Field),
    /// A text field with a control character.
    ControlCharacter(Field),
    /// A dispatch without a grid id.
    GridIdMissing,
    /// A grid id with spaces or punctuation.
    GridIdCharacters,
    /// A reject without a reason.
    ReasonMissing,
    /// A duplicate target that is not a report id.
    DuplicateIdInvalid,
    /// A report marked as a duplicate of itself.
    DuplicateOfItself,
    /// The account's role may not take this action on this category.
    RoleMayNot,
    /// Riders and administrators write no case events.
    NotAFollowUpRole,
    /// The case's status does not allow the action.
    StatusDoesNotAllow,
    /// The report is not on the server, or not in this account's districts.
    OutOfReach,
    /// The report is a draft.
    Draft,
    /// The server deleted or rewrote the document (retention, an erasure).
    Erased,
    /// The event's time is outside what the server accepts.
    EventTime,
    /// The case document would grow over the server's bounds.
    TooLarge,
    /// The change failed the case document's integrity checks.
    Integrity,
    /// Anything else.
    Other,
}

impl RefusalKind {
    /// The kind of `reason` (see the module docs).
    pub(crate) fn of(reason: &str) -> RefusalKind {
        use RefusalKind as K;
        let reason = reason.strip_prefix("invalid input: ").unwrap_or(reason);
        let has = |s: &str| reason.contains(s);
        if has(" characters; at most ") {
            return Field::named_in(reason).map_or(K::Other, K::TooLong);
        }
        if has(" contains a control character") {
            return Field::named_in(reason).map_or(K::Other, K::ControlCharacter);
        }
        if has("needs a grid id") {
            K::GridIdMissing
        } else if has("grid_id must be letters") {
            K::GridIdCharacters
        } else if has("needs a reason") {
            K::ReasonMissing
        } else if has("mark_duplicate 'of'") {
            K::DuplicateIdInvalid
        } else if has("cannot be a duplicate of itself") {
            K::DuplicateOfItself
        } else if has("cannot write case events") {
            K::NotAFollowUpRole
        } else if has(" may not ") && has(" a case of category ") {
            K::RoleMayNot
        } else if reason.starts_with("cannot ") && has(" this case: ") {
            K::StatusDoesNotAllow
        } else if has("outside this account's areas")
            || has("is not readable by this account")
            || has("is not on the server yet")
        {
            K::OutOfReach
        } else if has("is a draft") {
            K::Draft
        } else if has("was withdrawn and deleted by the server") || has("rewritten by the server") {
            K::Erased
        } else if has("ahead of the server's clock") || has("dated before the report") {
            K::EventTime
        } else if has("would be too large")
            || (has("the document would be ") && has(" bytes"))
            || (has("the sync message is ") && has(" bytes"))
        {
            K::TooLarge
        } else if has("case event")
            || has("case of report")
            || has("case document")
            || has("is not the case of report")
        {
            K::Integrity
        } else {
            K::Other
        }
    }

    /// The sentence for this kind in `lang` (Chinese; the English one is the reason itself).
    fn zh(self) -> String {
        use RefusalKind as K;
        let zh = Lang::Zh;
        match self {
            K::TooLong(f) => format!("{}过长，请缩短后再提交。", f.label(zh)),
            K::ControlCharacter(f) => format!("{}含有不允许的控制字符。", f.label(zh)),
            K::GridIdMissing => "派发到网格需要填写网格编号。".into(),
            K::GridIdCharacters => {
                "网格编号只能包含文字、数字和 -、_、. 三种符号，不能有空格。".into()
            }
            K::ReasonMissing => "不予处理必须写明原因。".into(),
            K::DuplicateIdInvalid => "重复的报告编号格式不对：应为报告的 UUID。".into(),
            K::DuplicateOfItself => "不能把报告标记为它自己的重复。".into(),
            K::RoleMayNot => "您的角色不能对这一类别的案件执行此操作。".into(),
            K::NotAFollowUpRole => {
                "此账号不能处理案件：处理由驿站、监督员和网格员完成。".into()
            }
            K::StatusDoesNotAllow => "案件当前的状态不允许此操作，请刷新后查看。".into(),
            K::OutOfReach => "此案件的报告不在服务器上，或不在此账号的辖区内。".into(),
            K::Draft => "报告仍是草稿，提交后才有案件。".into(),
            K::Erased => {
                "此报告已按规定删除或被服务器改写（例如依法删除个人信息），不能再处理。".into()
            }
            K::EventTime => "处理时间超出服务器允许的范围，请检查服务器时钟。".into(),
            K::TooLarge => {
                "此案件的记录已达到服务器允许的最大规模，不能再添加。请联系管理员。".into()
            }
            K::Integrity => {
                "案件记录未通过服务器的完整性检查，未保存任何内容。请刷新后重试；如仍出现，请联系管理员。"
                    .into()
            }
            K::Other => "服务器拒绝了此操作，未保存任何内容。".into(),
        }
    }
}

/// The page text of a refusal: "<heading>: <why>" in `lang`. `heading` is the localized
/// "bad request" or "may not" sentence; in English the reason follows as the check wrote it,
/// in Chinese the sentence of its kind (and for an unknown kind the English original too).
pub(crate) fn localized(lang: Lang, heading: Key, reason: &str) -> String {
    let head = t(lang, heading);
    let reason = reason.strip_prefix("invalid input: ").unwrap_or(reason);
    match lang {
        Lang::En => format!("{head}{}{reason}", lang.colon()),
        Lang::Zh => match RefusalKind::of(reason) {
            RefusalKind::Other => format!(
                "{head}{}{}（详情：{reason}）",
                lang.colon(),
                RefusalKind::Other.zh()
            ),
            kind => format!("{head}{}{}", lang.colon(), kind.zh()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration};
    use waystation_core::reports::case::integrity::check_new_event;
    use waystation_core::reports::case::record_on_document;
    use waystation_core::reports::{
        CaseEvent, CaseEventKind, CaseRole, Category, Report, ReportId, ReportStatus,
    };

    fn report(category: Category) -> Report {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Report {
            id: ReportId::parse("01900000-0000-7000-8000-000000000001").unwrap(),
            author: "rider-1".into(),
            category,
            status: ReportStatus::Submitted,
            description: None,
            merchant_name: None,
            merchant_address: None,
            address: None,
            position: None,
            district: Some("610113".into()),
            created_at: at,
            submitted_at: Some(at),
            withdrawn_at: None,
            withdraw_reason: None,
            photos: vec![],
            outbox: None,
        }
    }

    /// The reason the core gives for recording `kind` with `note` as `role`.
    fn core_reason(role: CaseRole, kind: CaseEventKind, note: &str) -> String {
        let r = report(Category::FoodSeal);
        let now = r.created_at + Duration::minutes(5);
        match record_on_document(None, &r, "u", role, kind, note, now) {
            Ok(_) => panic!("recorded"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_cores_field_refusals_have_their_own_kind() {
        use CaseEventKind as K;
        use CaseRole::Supervisor as S;
        let long = "长".repeat(5000);
        let cases = [
            (
                core_reason(S, K::Note, &long),
                RefusalKind::TooLong(Field::Note),
            ),
            (
                core_reason(S, K::Note, "a\u{7}"),
                RefusalKind::ControlCharacter(Field::Note),
            ),
            (
                core_reason(
                    S,
                    K::Dispatch {
                        grid_id: " ".into(),
                    },
                    "",
                ),
                RefusalKind::GridIdMissing,
            ),
            (
                core_reason(
                    S,
                    K::Dispatch {
                        grid_id: "a b".into(),
                    },
                    "",
                ),
                RefusalKind::GridIdCharacters,
            ),
            (
                core_reason(
                    S,
                    K::Dispatch {
                        grid_id: "g".repeat(65),
                    },
                    "",
                ),
                RefusalKind::TooLong(Field::GridId),
            ),
            (
                core_reason(S, K::Reject { reason: "".into() }, ""),
                RefusalKind::ReasonMissing,
            ),
            (
                core_reason(
                    S,
                    K::Reject {
                        reason: long.clone(),
                    },
                    "",
                ),
                RefusalKind::TooLong(Field::Reason),
            ),
            (
                core_reason(S, K::MarkDuplicate { of: "x".into() }, ""),
                RefusalKind::DuplicateIdInvalid,
            ),
            (
                core_reason(
                    S,
                    K::MarkDuplicate {
                        of: "01900000-0000-7000-8000-000000000001".into(),
                    },
                    "",
                ),
                RefusalKind::DuplicateOfItself,
            ),
            (
                core_reason(CaseRole::StationStaff, K::Resolve, ""),
                RefusalKind::RoleMayNot,
            ),
            (
                core_reason(CaseRole::Rider, K::Note, ""),
                RefusalKind::NotAFollowUpRole,
            ),
            (
                core_reason(S, K::Reopen, ""),
                RefusalKind::StatusDoesNotAllow,
            ),
        ];
        for (reason, kind) in cases {
            assert_eq!(RefusalKind::of(&reason), kind, "{reason}");
            let zh = localized(Lang::Zh, Key::BadRequest, &reason);
            assert!(!zh.contains("详情") && !zh.is_ascii(), "{zh}");
            let en = localized(Lang::En, Key::BadRequest, &reason);
            assert!(
                en.starts_with("Bad request: ") && !en.contains("invalid input"),
                "{en}"
            );
        }
    }

    #[test]
    fn the_sync_policys_refusals_have_their_own_kind() {
        let r = report(Category::FoodSeal);
        let now = r.created_at + Duration::hours(1);
        let event = |kind: CaseEventKind, at: DateTime<chrono::Utc>| CaseEvent {
            id: "01900000-0000-7000-8000-0000000000aa".into(),
            kind,
            actor: "u".into(),
            role: CaseRole::Supervisor,
            at,
            note: None,
            photos: vec![],
        };
        let policy = |e: CaseEvent| check_new_event(&e, &r.id, r.created_at, now).unwrap_err();
        let cases = [
            (
                policy(event(CaseEventKind::Note, now + Duration::hours(3))),
                RefusalKind::EventTime,
            ),
            (
                policy(event(CaseEventKind::Note, r.created_at - Duration::days(3))),
                RefusalKind::EventTime,
            ),
            (
                policy(event(CaseEventKind::Reject { reason: " ".into() }, now)),
                RefusalKind::ReasonMissing,
            ),
            (
                policy(event(
                    CaseEventKind::Dispatch {
                        grid_id: "a b".into(),
                    },
                    now,
                )),
                RefusalKind::GridIdCharacters,
            ),
            (
                crate::reach::CASE_OUT_OF_REACH.to_string(),
                RefusalKind::OutOfReach,
            ),
            (
                "report '01900000-0000-7000-8000-000000000001' is outside this account's areas"
                    .into(),
                RefusalKind::OutOfReach,
            ),
            (
                "the document would be 2000000 bytes; at most 1048576 are kept".into(),
                RefusalKind::TooLarge,
            ),
            (
                "case event 'x' was changed or removed".into(),
                RefusalKind::Integrity,
            ),
            (
                "document 'case:x' was rewritten by the server (an erasure); this copy is of \
                 its earlier history, which is dropped: fetch the document anew"
                    .into(),
                RefusalKind::Erased,
            ),
        ];
        for (reason, kind) in cases {
            assert_eq!(RefusalKind::of(&reason), kind, "{reason}");
        }
    }

    #[test]
    fn an_unknown_reason_is_shown_with_its_english_original_in_chinese() {
        let zh = localized(Lang::Zh, Key::Forbidden, "something new");
        assert!(zh.starts_with(t(Lang::Zh, Key::Forbidden)), "{zh}");
        assert!(zh.contains("服务器拒绝了此操作") && zh.contains("（详情：something new）"));
        let en = localized(Lang::En, Key::Forbidden, "something new");
        assert_eq!(
            en,
            format!("{}: something new", t(Lang::En, Key::Forbidden))
        );
    }
}
