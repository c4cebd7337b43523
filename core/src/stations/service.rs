//! The closed vocabulary of what a red station offers.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

macro_rules! services {
    ($( $variant:ident = $bit:literal, $name:literal, $zh:literal, $en:literal; )*) => {
        /// A service a red station offers. The set is closed: packs naming anything else are
        /// refused. Each has a stable bit (stored in SQLite, append-only) and a stable name
        /// (used in packs, the CLI and the bindings).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
        #[serde(rename_all = "snake_case")]
        pub enum Service {
            $(
                #[doc = $en]
                $variant,
            )*
        }

        impl Service {
            /// Every service, in bit order.
            pub const ALL: &'static [Service] = &[$(Service::$variant),*];

            /// The bits of every service (checked once per loaded station).
            const ALL_BITS: u32 = 0 $(| 1 << $bit)*;

            /// The stable name used in packs and on the command line.
            pub fn name(self) -> &'static str {
                match self { $(Service::$variant => $name),* }
            }

            /// The Chinese label.
            pub fn label_zh(self) -> &'static str {
                match self { $(Service::$variant => $zh),* }
            }

            /// The English label.
            pub fn label_en(self) -> &'static str {
                match self { $(Service::$variant => $en),* }
            }

            /// The service with its stable name and labels (for filter chips).
            pub fn info(self) -> ServiceInfo {
                ServiceInfo {
                    service: self,
                    name: self.name().to_string(),
                    label_zh: self.label_zh().to_string(),
                    label_en: self.label_en().to_string(),
                }
            }

            /// The service's bit in a [`ServiceSet`].
            pub fn bit(self) -> u32 {
                match self { $(Service::$variant => 1 << $bit),* }
            }
        }

        impl FromStr for Service {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                    $($name => Ok(Service::$variant),)*
                    other => Err(Error::invalid(format!(
                        "unknown service '{other}'; known services: {}",
                        Service::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
                    ))),
                }
            }
        }
    };
}

services! {
    DrinkingWater = 0, "drinking_water", "饮用水", "Drinking water";
    RestArea = 1, "rest_area", "休息区", "Rest area";
    PhoneCharging = 2, "phone_charging", "手机充电", "Phone charging";
    EbikeCharging = 3, "ebike_charging", "电动车充电", "E-bike charging";
    BatterySwap = 4, "battery_swap", "换电", "Battery swap";
    FirstAidKit = 5, "first_aid_kit", "急救箱", "First-aid kit";
    Microwave = 6, "microwave", "微波炉", "Microwave";
    Toilet = 7, "toilet", "卫生间", "Toilet";
    LegalAid = 8, "legal_aid", "法律援助", "Legal aid";
    TaxService = 9, "tax_service", "税务服务", "Tax service";
    UnionDesk = 10, "union_desk", "工会服务", "Union desk";
    Wifi = 11, "wifi", "无线网络", "Wi-Fi";
    AirConditioning = 12, "air_conditioning", "空调（避暑取暖）", "Air conditioning (cool or warm)";
    RepairTools = 13, "repair_tools", "维修工具", "Repair tools";
    UmbrellaLending = 14, "umbrella_lending", "爱心雨伞", "Umbrella lending";
    HotWater = 15, "hot_water", "热水", "Hot water";
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A service with its stable name and its labels ([`Service::info`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ServiceInfo {
    /// The service.
    pub service: Service,
    /// Stable name, e.g. `ebike_charging`.
    pub name: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
}

/// A set of services, stored as a bit set. Serialises as a list of service names, and crosses
/// the FFI as a list of services in bit order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ServiceSet(pub u32);

#[cfg(feature = "uniffi")]
uniffi::custom_type!(ServiceSet, Vec<Service>, {
    lower: |set| set.to_vec(),
    try_lift: |list| Ok(ServiceSet::of(&list)),
});

impl Serialize for ServiceSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl ServiceSet {
    /// The services in bit order.
    pub fn iter(self) -> impl Iterator<Item = Service> {
        Service::ALL
            .iter()
            .copied()
            .filter(move |s| self.0 & s.bit() != 0)
    }

    /// Whether `service` is in the set.
    pub fn contains(self, service: Service) -> bool {
        self.0 & service.bit() != 0
    }

    /// The set holding `services`.
    pub fn of(services: &[Service]) -> ServiceSet {
        ServiceSet(services.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// Whether every service in `required` is in this set.
    pub fn contains_all(self, required: ServiceSet) -> bool {
        self.0 & required.0 == required.0
    }

    /// The services in bit order.
    pub fn to_vec(self) -> Vec<Service> {
        Service::ALL
            .iter()
            .copied()
            .filter(|s| self.0 & s.bit() != 0)
            .collect()
    }

    /// Parses service names, refusing the first unknown one by name.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<ServiceSet> {
        let list = names
            .iter()
            .map(|n| n.as_ref().parse())
            .collect::<Result<Vec<Service>>>()?;
        Ok(Self::of(&list))
    }

    /// Refuses bits no known service uses (a database from a newer build, say).
    pub fn from_bits(bits: i64) -> Result<ServiceSet> {
        if bits < 0 || bits & !i64::from(Service::ALL_BITS) != 0 {
            return Err(Error::Internal(format!("unknown service bits {bits:#x}")));
        }
        Ok(ServiceSet(bits as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bits_are_unique() {
        let mut seen = 0u32;
        for s in Service::ALL {
            assert_eq!(s.name().parse::<Service>().unwrap(), *s);
            assert_eq!(seen & s.bit(), 0);
            seen |= s.bit();
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.name()));
        }
        assert_eq!(Service::ALL_BITS, seen);
        assert!(ServiceSet::from_bits(i64::from(seen)).is_ok());
        assert!(ServiceSet::from_bits(i64::from(seen) + 1).is_err());
        assert!(ServiceSet::from_bits(-1).is_err());
    }

    #[test]
    fn unknown_service_is_named() {
        let err = ServiceSet::parse(&["toilet", "spa"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown service 'spa'"), "{err}");
        assert!(err.contains("drinking_water"), "{err}");
    }

    #[test]
    fn contains_all_requires_every_service() {
        let set = ServiceSet::of(&[Service::Toilet, Service::Microwave]);
        assert!(set.contains_all(ServiceSet::of(&[Service::Toilet])));
        assert!(!set.contains_all(ServiceSet::of(&[Service::Toilet, Service::Wifi])));
        assert!(set.contains_all(ServiceSet::default()));
    }
}
