//! One module per codec. Each turns a [`Case`] into a [`Spec`] through that codec's
//! fastest correct API, or says why it cannot ([`NotApplicable`]).

pub mod framing;
pub mod mqtt_protocol_core;
pub mod mqttbytes;
pub mod mqttrs;
pub mod mqttwire;
pub mod mqttwire_ref;
pub mod rmqtt_codec;
pub mod rumqttc;
pub mod strict;

use crate::cases::Case;
use crate::harness::{NotApplicable, Spec};

pub fn spec(codec: &str, case: &Case) -> Result<Spec, NotApplicable> {
    match codec {
        "mqttwire" => mqttwire::spec(case),
        "mqttwire_ref" => mqttwire_ref::spec(case),
        "rumqttc" => rumqttc::spec(case),
        "mqttbytes" => mqttbytes::spec(case),
        "mqttrs" => mqttrs::spec(case),
        "mqtt_protocol_core" => mqtt_protocol_core::spec(case),
        "rmqtt_codec" => rmqtt_codec::spec(case),
        "framing" => framing::spec(case),
        "strict" => strict::spec(case),
        "strict_ref" => strict::spec_borrowed(case),
        _ => unreachable!("{codec}"),
    }
}

/// The name of a codec in the tables.
pub fn display(codec: &str) -> &'static str {
    match codec {
        "mqttwire" => "mqttwire",
        "mqttwire_ref" => "mqttwire (borrowed)",
        "rumqttc" => "rumqttc (mqttbytes v4/v5)",
        "mqttbytes" => "mqttbytes 0.6",
        "mqttrs" => "mqttrs",
        "mqtt_protocol_core" => "mqtt-protocol-core",
        "rmqtt_codec" => "rmqtt-codec",
        "framing" => "floor",
        "strict" => "strict floor",
        "strict_ref" => "strict floor (borrowed)",
        _ => unreachable!("{codec}"),
    }
}
