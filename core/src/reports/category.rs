//! The closed list of report categories.
//!
//! A category's code (`food.seal`, `road.hazard`, …) is stable: it is stored in report
//! documents, sent to the server and exported as the Open311 `service_code`, so a code is never
//! renamed or reused. New categories may be added; `docs/formats/categories.md` lists them all.

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// What a report is about. The code ([`Category::code`]) is the stable form, and the form in
/// which a category crosses the FFI: a string such as `food.seal` (a uniffi custom type; an
/// unknown code is refused with the list of valid ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// A food business operating without a licence.
    FoodUnlicensed,
    /// A food business whose licence is missing or expired.
    FoodLicenceMissing,
    /// A food business operating beyond its licence's scope.
    FoodBeyondScope,
    /// A hygiene problem in a food business.
    FoodHygiene,
    /// Suspected spoiled or adulterated food.
    FoodSpoiled,
    /// A tampered or missing food-safety seal on a delivery.
    FoodSeal,
    /// Another food-safety problem.
    FoodOther,
    /// A road hazard: a pothole, debris, flooding.
    RoadHazard,
    /// A dangerous junction.
    RoadJunction,
    /// A broken traffic light.
    RoadTrafficLight,
    /// Riders refused entry to a building or compound.
    AccessEntryRefused,
    /// No place for riders to park.
    AccessNoParking,
    /// Building signage too unclear to find an address.
    AccessSignage,
    /// A red station found closed during its opening hours.
    StationClosed,
    /// A red station's charger is broken.
    StationChargerBroken,
    /// A red station's supplies (water, first aid) are missing.
    StationSuppliesMissing,
    /// Anything else.
    Other,
}

/// The group a category belongs to (the first part of its code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "lowercase")]
pub enum CategoryGroup {
    /// Food safety (食品安全).
    Food,
    /// Road and traffic (道路交通).
    Road,
    /// Access for riders (通行).
    Access,
    /// A red station's own problems (驿站).
    Station,
    /// Anything else (其他).
    Other,
}

/// A field a category needs before a report can be submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequiredField {
    /// The merchant's name or the merchant's address (at least one).
    MerchantNameOrAddress,
    /// A description.
    Description,
}

/// A category as a picker shows it: its code, group and labels, and what a report of it
/// needs before it can be submitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CategoryInfo {
    /// The category (its stable code, e.g. `food.seal`, also the Open311 `service_code`).
    pub code: Category,
    /// The group: food, road, access, station or other.
    pub group: CategoryGroup,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// True when a report needs the merchant's name or address before it can be submitted.
    pub needs_merchant: bool,
    /// True when a report needs a description before it can be submitted.
    pub needs_description: bool,
}

/// Every category with its labels, in display order, for a category picker.
pub fn categories() -> Vec<CategoryInfo> {
    ALL_CATEGORIES.iter().map(|&c| c.describe()).collect()
}

use Category::*;

/// Every category, in display order.
pub const ALL_CATEGORIES: [Category; 17] = [
    FoodUnlicensed,
    FoodLicenceMissing,
    FoodBeyondScope,
    FoodHygiene,
    FoodSpoiled,
    FoodSeal,
    FoodOther,
    RoadHazard,
    RoadJunction,
    RoadTrafficLight,
    AccessEntryRefused,
    AccessNoParking,
    AccessSignage,
    StationClosed,
    StationChargerBroken,
    StationSuppliesMissing,
    Other,
];

impl Category {
    /// The stable code, also the Open311 `service_code`.
    pub fn code(self) -> &'static str {
        self.info().0
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        self.info().1
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        self.info().2
    }

    /// The category as a picker shows it.
    pub fn describe(self) -> CategoryInfo {
        let needs = |f| self.required_fields().contains(&f);
        CategoryInfo {
            code: self,
            group: self.group(),
            label_zh: self.label_zh().to_string(),
            label_en: self.label_en().to_string(),
            needs_merchant: needs(RequiredField::MerchantNameOrAddress),
            needs_description: needs(RequiredField::Description),
        }
    }

    /// The group.
    pub fn group(self) -> CategoryGroup {
        match self {
            FoodUnlicensed | FoodLicenceMissing | FoodBeyondScope | FoodHygiene | FoodSpoiled
            | FoodSeal | FoodOther => CategoryGroup::Food,
            RoadHazard | RoadJunction | RoadTrafficLight => CategoryGroup::Road,
            AccessEntryRefused | AccessNoParking | AccessSignage => CategoryGroup::Access,
            StationClosed | StationChargerBroken | StationSuppliesMissing => CategoryGroup::Station,
            Other => CategoryGroup::Other,
        }
    }

    /// Fields a report of this category needs before it can be submitted (beyond the position
    /// and the district, which every report needs). A food-safety report must say which merchant; a catch-all
    /// category must say what the problem is.
    pub fn required_fields(self) -> &'static [RequiredField] {
        match self {
            FoodOther => &[
                RequiredField::MerchantNameOrAddress,
                RequiredField::Description,
            ],
            Other => &[RequiredField::Description],
            c if c.group() == CategoryGroup::Food => &[RequiredField::MerchantNameOrAddress],
            _ => &[],
        }
    }

    fn info(self) -> (&'static str, &'static str, &'static str) {
        match self {
            FoodUnlicensed => (
                "food.unlicensed",
                "无证经营食品",
                "Unlicensed food business",
            ),
            FoodLicenceMissing => (
                "food.licence_missing",
                "未公示或过期许可证",
                "Missing or expired licence",
            ),
            FoodBeyondScope => (
                "food.beyond_scope",
                "超范围经营",
                "Operating beyond the licence's scope",
            ),
            FoodHygiene => ("food.hygiene", "卫生问题", "Hygiene problem"),
            FoodSpoiled => (
                "food.spoiled",
                "疑似变质或掺假食品",
                "Suspected spoiled or adulterated food",
            ),
            FoodSeal => (
                "food.seal",
                "食安封签缺失或被破坏",
                "Tampered or missing food-safety seal",
            ),
            FoodOther => (
                "food.other",
                "其他食品安全问题",
                "Other food-safety problem",
            ),
            RoadHazard => ("road.hazard", "道路隐患", "Road hazard"),
            RoadJunction => ("road.junction", "危险路口", "Dangerous junction"),
            RoadTrafficLight => ("road.traffic_light", "信号灯故障", "Broken traffic light"),
            AccessEntryRefused => (
                "access.entry_refused",
                "骑手禁止进入",
                "Rider entry refused",
            ),
            AccessNoParking => ("access.no_parking", "无骑手停车位", "No rider parking"),
            AccessSignage => ("access.signage", "楼栋标识不清", "Unclear building signage"),
            StationClosed => ("station.closed", "驿站未开放", "Station closed"),
            StationChargerBroken => ("station.charger_broken", "充电设施损坏", "Charger broken"),
            StationSuppliesMissing => ("station.supplies_missing", "物资缺失", "Supplies missing"),
            Other => ("other", "其他", "Other"),
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Category {
    type Err = Error;

    /// Parses a code exactly as [`Category::code`] writes it (surrounding spaces ignored).
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim();
        ALL_CATEGORIES
            .iter()
            .copied()
            .find(|c| c.code() == wanted)
            .ok_or_else(|| {
                let shown: String = wanted.chars().take(40).collect();
                let valid: Vec<&str> = ALL_CATEGORIES.iter().map(|c| c.code()).collect();
                Error::invalid(format!(
                    "unknown report category '{shown}'; valid categories: {}",
                    valid.join(", ")
                ))
            })
    }
}

#[cfg(feature = "uniffi")]
uniffi::custom_type!(Category, String, {
    lower: |c| c.code().to_string(),
    try_lift: |s| Ok(s.parse::<Category>()?),
});

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = HashSet::new();
        for c in ALL_CATEGORIES {
            assert!(seen.insert(c.code()), "duplicate code {}", c.code());
            assert_eq!(c.code().parse::<Category>().unwrap(), c);
            assert!(!c.label_zh().is_empty() && !c.label_en().is_empty());
            // The group is the code's first part.
            let group = serde_json::to_value(c.group()).unwrap();
            assert_eq!(c.code().split('.').next().unwrap(), group.as_str().unwrap());
        }
    }

    #[test]
    fn unknown_category_names_it_and_lists_valid_codes() {
        let err = "food.poison".parse::<Category>().unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)));
        let msg = err.to_string();
        assert!(msg.contains("'food.poison'"), "{msg}");
        assert!(
            msg.contains("food.seal") && msg.contains("station.closed"),
            "{msg}"
        );
        assert!("".parse::<Category>().is_err());
        assert!("FOOD.SEAL".parse::<Category>().is_err());
    }

    #[test]
    fn food_safety_needs_a_merchant() {
        for c in ALL_CATEGORIES {
            let needs = c
                .required_fields()
                .contains(&RequiredField::MerchantNameOrAddress);
            assert_eq!(needs, c.group() == CategoryGroup::Food, "{c}");
        }
        assert_eq!(
            Category::Other.required_fields(),
            &[RequiredField::Description]
        );
    }
}
