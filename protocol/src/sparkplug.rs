//! Sparkplug B 3.0 (Eclipse Sparkplug): the protobuf payload of `sparkplug_b.proto` (Eclipse
//! Tahu, commit 5736e404; a copy is in gateway-shim/tests/peers/sparkplug/) written as `prost`
//! messages with the same field numbers, and the topic namespace
//! `spBv1.0/{group}/{NBIRTH|NDEATH|DBIRTH|DDEATH|NDATA|DDATA|NCMD|DCMD}/{node}[/{device}]`
//! plus `spBv1.0/STATE/{host}`.
//!
//! The shim encodes with it (`[publish] format = "sparkplug"`) and the dashboard decodes with
//! it, so it builds for wasm32 too. [`decode`] reads a payload only under `spBv1.0/`: bytes on
//! any other topic are never guessed to be protobuf.

use prost::Message as _;
use std::fmt;

/// The first topic level of every Sparkplug B message.
pub const NAMESPACE: &str = "spBv1.0";

/// The metric an edge node announces in NBIRTH and a host writes `true` to in an NCMD to ask
/// for a rebirth (Sparkplug 3.0, "Node Control/Rebirth").
pub const REBIRTH: &str = "Node Control/Rebirth";

/// The metric carrying the birth/death sequence number in NBIRTH and NDEATH.
pub const BD_SEQ: &str = "bdSeq";

/// `DataType` of sparkplug_b.proto: the `datatype` field of a metric, as a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
#[allow(missing_docs)] // The names are the proto's.
pub enum DataType {
    Unknown = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    UInt8 = 5,
    UInt16 = 6,
    UInt32 = 7,
    UInt64 = 8,
    Float = 9,
    Double = 10,
    Boolean = 11,
    String = 12,
    DateTime = 13,
    Text = 14,
    Uuid = 15,
    DataSet = 16,
    Bytes = 17,
    File = 18,
    Template = 19,
    PropertySet = 20,
    PropertySetList = 21,
}

impl DataType {
    /// The type numbered `n`, if it is one of the scalar or structured types above (the
    /// array types, 22 to 34, come back as `None`).
    pub fn from_u32(n: u32) -> Option<DataType> {
        use DataType::*;
        const ALL: [DataType; 22] = [
            Unknown,
            Int8,
            Int16,
            Int32,
            Int64,
            UInt8,
            UInt16,
            UInt32,
            UInt64,
            Float,
            Double,
            Boolean,
            String,
            DateTime,
            Text,
            Uuid,
            DataSet,
            Bytes,
            File,
            Template,
            PropertySet,
            PropertySetList,
        ];
        ALL.get(n as usize).copied()
    }
}

/// `Payload`: what every NBIRTH, DBIRTH, NDATA, DDATA, NDEATH, DDEATH, NCMD and DCMD carries.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Payload {
    /// When the message was sent, Unix epoch milliseconds.
    #[prost(uint64, optional, tag = "1")]
    pub timestamp: Option<u64>,
    /// The metrics.
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
    /// 0 to 255, one more per message of the edge node (NDEATH has none).
    #[prost(uint64, optional, tag = "3")]
    pub seq: Option<u64>,
    /// Names the schema of `body`.
    #[prost(string, optional, tag = "4")]
    pub uuid: Option<String>,
    /// Bytes outside the definition above.
    #[prost(bytes = "vec", optional, tag = "5")]
    pub body: Option<Vec<u8>>,
}

/// `Payload.Metric`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    /// The name: in births and commands; data messages use the alias alone.
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// The number the birth ties to `name`, used in later data messages.
    #[prost(uint64, optional, tag = "2")]
    pub alias: Option<u64>,
    /// When the value was acquired, Unix epoch milliseconds.
    #[prost(uint64, optional, tag = "3")]
    pub timestamp: Option<u64>,
    /// A [`DataType`] number.
    #[prost(uint32, optional, tag = "4")]
    pub datatype: Option<u32>,
    /// Historical data, not the current value.
    #[prost(bool, optional, tag = "5")]
    pub is_historical: Option<bool>,
    /// Not to be stored as a tag.
    #[prost(bool, optional, tag = "6")]
    pub is_transient: Option<bool>,
    /// The value is null.
    #[prost(bool, optional, tag = "7")]
    pub is_null: Option<bool>,
    /// Metadata.
    #[prost(message, optional, tag = "8")]
    pub metadata: Option<MetaData>,
    /// Properties, e.g. `engUnit`.
    #[prost(message, optional, tag = "9")]
    pub properties: Option<PropertySet>,
    /// The value.
    #[prost(oneof = "MetricValue", tags = "10, 11, 12, 13, 14, 15, 16, 17, 18, 19")]
    pub value: Option<MetricValue>,
}

/// `Payload.Metric.value`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum MetricValue {
    /// Int8, Int16, Int32 (two's complement), UInt8, UInt16, UInt32.
    #[prost(uint32, tag = "10")]
    IntValue(u32),
    /// Int64 (two's complement), UInt64, DateTime.
    #[prost(uint64, tag = "11")]
    LongValue(u64),
    /// Float.
    #[prost(float, tag = "12")]
    FloatValue(f32),
    /// Double.
    #[prost(double, tag = "13")]
    DoubleValue(f64),
    /// Boolean.
    #[prost(bool, tag = "14")]
    BooleanValue(bool),
    /// String, Text, UUID.
    #[prost(string, tag = "15")]
    StringValue(String),
    /// Bytes, File.
    #[prost(bytes, tag = "16")]
    BytesValue(Vec<u8>),
    /// DataSet.
    #[prost(message, tag = "17")]
    DatasetValue(DataSet),
    /// Template.
    #[prost(message, tag = "18")]
    TemplateValue(Template),
    /// A third party's value.
    #[prost(message, tag = "19")]
    ExtensionValue(Extension),
}

/// The `*ValueExtension` messages: only extensions, which this crate skips.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Extension {}

/// `Payload.MetaData`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetaData {
    /// Part of a multi-part message.
    #[prost(bool, optional, tag = "1")]
    pub is_multi_part: Option<bool>,
    /// Media type.
    #[prost(string, optional, tag = "2")]
    pub content_type: Option<String>,
    /// Size of the file, string or parts.
    #[prost(uint64, optional, tag = "3")]
    pub size: Option<u64>,
    /// Sequence number of a part.
    #[prost(uint64, optional, tag = "4")]
    pub seq: Option<u64>,
    /// File name.
    #[prost(string, optional, tag = "5")]
    pub file_name: Option<String>,
    /// File type.
    #[prost(string, optional, tag = "6")]
    pub file_type: Option<String>,
    /// MD5 of the data.
    #[prost(string, optional, tag = "7")]
    pub md5: Option<String>,
    /// Free text.
    #[prost(string, optional, tag = "8")]
    pub description: Option<String>,
}

/// `Payload.PropertySet`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PropertySet {
    /// Property names.
    #[prost(string, repeated, tag = "1")]
    pub keys: Vec<String>,
    /// Their values, in the same order.
    #[prost(message, repeated, tag = "2")]
    pub values: Vec<PropertyValue>,
}

/// `Payload.PropertySetList`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PropertySetList {
    /// The sets.
    #[prost(message, repeated, tag = "1")]
    pub propertyset: Vec<PropertySet>,
}

/// `Payload.PropertyValue`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PropertyValue {
    /// A [`DataType`] number.
    #[prost(uint32, optional, tag = "1")]
    pub r#type: Option<u32>,
    /// The value is null.
    #[prost(bool, optional, tag = "2")]
    pub is_null: Option<bool>,
    /// The value.
    #[prost(oneof = "PropertyValueValue", tags = "3, 4, 5, 6, 7, 8, 9, 10, 11")]
    pub value: Option<PropertyValueValue>,
}

/// `Payload.PropertyValue.value`.
#[derive(Clone, PartialEq, prost::Oneof)]
#[allow(missing_docs)] // One variant per proto field of the same name.
pub enum PropertyValueValue {
    #[prost(uint32, tag = "3")]
    IntValue(u32),
    #[prost(uint64, tag = "4")]
    LongValue(u64),
    #[prost(float, tag = "5")]
    FloatValue(f32),
    #[prost(double, tag = "6")]
    DoubleValue(f64),
    #[prost(bool, tag = "7")]
    BooleanValue(bool),
    #[prost(string, tag = "8")]
    StringValue(String),
    #[prost(message, tag = "9")]
    PropertysetValue(PropertySet),
    #[prost(message, tag = "10")]
    PropertysetsValue(PropertySetList),
    #[prost(message, tag = "11")]
    ExtensionValue(Extension),
}

/// `Payload.DataSet`: a table.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DataSet {
    /// Number of columns.
    #[prost(uint64, optional, tag = "1")]
    pub num_of_columns: Option<u64>,
    /// Column names.
    #[prost(string, repeated, tag = "2")]
    pub columns: Vec<String>,
    /// Column [`DataType`] numbers.
    #[prost(uint32, repeated, packed = "false", tag = "3")]
    pub types: Vec<u32>,
    /// The rows.
    #[prost(message, repeated, tag = "4")]
    pub rows: Vec<Row>,
}

/// `Payload.DataSet.Row`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Row {
    /// One value per column.
    #[prost(message, repeated, tag = "1")]
    pub elements: Vec<DataSetValue>,
}

/// `Payload.DataSet.DataSetValue`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DataSetValue {
    /// The value.
    #[prost(oneof = "ScalarValue", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub value: Option<ScalarValue>,
}

/// `Payload.DataSet.DataSetValue.value`.
#[derive(Clone, PartialEq, prost::Oneof)]
#[allow(missing_docs)] // One variant per proto field of the same name.
pub enum ScalarValue {
    #[prost(uint32, tag = "1")]
    IntValue(u32),
    #[prost(uint64, tag = "2")]
    LongValue(u64),
    #[prost(float, tag = "3")]
    FloatValue(f32),
    #[prost(double, tag = "4")]
    DoubleValue(f64),
    #[prost(bool, tag = "5")]
    BooleanValue(bool),
    #[prost(string, tag = "6")]
    StringValue(String),
    #[prost(message, tag = "7")]
    ExtensionValue(Extension),
}

/// `Payload.Template`: a user-defined type (definition) or an instance of one.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Template {
    /// Version, to catch mismatches.
    #[prost(string, optional, tag = "1")]
    pub version: Option<String>,
    /// Its members.
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
    /// Its parameters.
    #[prost(message, repeated, tag = "3")]
    pub parameters: Vec<Parameter>,
    /// The definition an instance refers to.
    #[prost(string, optional, tag = "4")]
    pub template_ref: Option<String>,
    /// A definition rather than an instance.
    #[prost(bool, optional, tag = "5")]
    pub is_definition: Option<bool>,
}

/// `Payload.Template.Parameter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Parameter {
    /// Its name.
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// A [`DataType`] number.
    #[prost(uint32, optional, tag = "2")]
    pub r#type: Option<u32>,
    /// The value.
    #[prost(oneof = "ParameterValue", tags = "3, 4, 5, 6, 7, 8, 9")]
    pub value: Option<ParameterValue>,
}

/// `Payload.Template.Parameter.value`.
#[derive(Clone, PartialEq, prost::Oneof)]
#[allow(missing_docs)] // One variant per proto field of the same name.
pub enum ParameterValue {
    #[prost(uint32, tag = "3")]
    IntValue(u32),
    #[prost(uint64, tag = "4")]
    LongValue(u64),
    #[prost(float, tag = "5")]
    FloatValue(f32),
    #[prost(double, tag = "6")]
    DoubleValue(f64),
    #[prost(bool, tag = "7")]
    BooleanValue(bool),
    #[prost(string, tag = "8")]
    StringValue(String),
    #[prost(message, tag = "9")]
    ExtensionValue(Extension),
}

impl Payload {
    /// The protobuf bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode_to_vec()
    }

    /// Reads protobuf bytes. Prefer [`decode`], which also checks the topic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Payload, String> {
        Payload::decode(bytes).map_err(|e| e.to_string())
    }
}

impl Metric {
    /// A Double metric as births carry it: name, alias, timestamp and value.
    pub fn birth(name: &str, alias: u64, t: u64, value: f64) -> Metric {
        Metric {
            name: Some(name.to_string()),
            ..Metric::data(alias, t, value)
        }
    }

    /// A Double metric as data messages carry it: by alias alone.
    pub fn data(alias: u64, t: u64, value: f64) -> Metric {
        Metric {
            alias: Some(alias),
            timestamp: Some(t),
            datatype: Some(DataType::Double as u32),
            value: Some(MetricValue::DoubleValue(value)),
            ..Metric::default()
        }
    }

    /// The value as a number, read by `datatype`: the integer types (signed ones are two's
    /// complement in `int_value`/`long_value`, Sparkplug 3.0 §6.4.16), Float, Double, and
    /// Boolean as 0 or 1. `None` for a null value, other types, or a value of the wrong kind.
    pub fn value_f64(&self) -> Option<f64> {
        use DataType as T;
        use MetricValue as V;
        if self.is_null == Some(true) {
            return None;
        }
        let datatype = self.datatype.and_then(DataType::from_u32);
        Some(match (datatype?, self.value.as_ref()?) {
            (T::Int8, V::IntValue(v)) => *v as u8 as i8 as f64,
            (T::Int16, V::IntValue(v)) => *v as u16 as i16 as f64,
            (T::Int32, V::IntValue(v)) => *v as i32 as f64,
            (T::UInt8 | T::UInt16 | T::UInt32, V::IntValue(v)) => *v as f64,
            (T::Int64, V::LongValue(v)) => *v as i64 as f64,
            (T::UInt64, V::LongValue(v)) => *v as f64,
            (T::Float, V::FloatValue(v)) => *v as f64,
            (T::Double, V::DoubleValue(v)) => *v,
            (T::Boolean, V::BooleanValue(v)) => f64::from(u8::from(*v)),
            _ => return None,
        })
    }
}

/// The message types of the `spBv1.0/{group}/{type}/...` topics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// An edge node came online: its metrics, with names and aliases.
    NBirth,
    /// An edge node went offline (usually its MQTT will).
    NDeath,
    /// A device came online.
    DBirth,
    /// A device went offline.
    DDeath,
    /// New values of an edge node's metrics.
    NData,
    /// New values of a device's metrics.
    DData,
    /// A command to an edge node (e.g. rebirth).
    NCmd,
    /// A command to a device.
    DCmd,
}

impl MessageType {
    const ALL: [MessageType; 8] = [
        MessageType::NBirth,
        MessageType::NDeath,
        MessageType::DBirth,
        MessageType::DDeath,
        MessageType::NData,
        MessageType::DData,
        MessageType::NCmd,
        MessageType::DCmd,
    ];

    /// The topic level, e.g. `NBIRTH`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::NBirth => "NBIRTH",
            MessageType::NDeath => "NDEATH",
            MessageType::DBirth => "DBIRTH",
            MessageType::DDeath => "DDEATH",
            MessageType::NData => "NDATA",
            MessageType::DData => "DDATA",
            MessageType::NCmd => "NCMD",
            MessageType::DCmd => "DCMD",
        }
    }

    /// The device types (`D…`) name a device in a fifth topic level; the node types do not.
    pub fn is_device(self) -> bool {
        matches!(
            self,
            MessageType::DBirth | MessageType::DDeath | MessageType::DData | MessageType::DCmd
        )
    }
}

/// A parsed Sparkplug topic.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// `spBv1.0/{group_id}/{message_type}/{edge_node_id}[/{device_id}]`.
    Edge {
        /// The group (e.g. a plant).
        group_id: String,
        /// What the message is.
        message_type: MessageType,
        /// The edge node.
        edge_node_id: String,
        /// The device, for the `D…` types.
        device_id: Option<String>,
    },
    /// `spBv1.0/STATE/{host_id}`: a primary host application's online state (JSON).
    State {
        /// The host application.
        host_id: String,
    },
}

impl Topic {
    /// Parses a topic under `spBv1.0/`; the error says which level is wrong and why.
    pub fn parse(topic: &str) -> Result<Topic, Error> {
        let bad = |reason: String| Error::Topic {
            topic: topic.to_string(),
            reason,
        };
        let levels: Vec<&str> = topic.split('/').collect();
        if levels[0] != NAMESPACE {
            return Err(Error::NotSparkplug {
                topic: topic.to_string(),
            });
        }
        if levels.get(1) == Some(&"STATE") {
            let [_, _, host] = levels[..] else {
                return Err(bad(format!(
                    "{} levels; STATE topics are spBv1.0/STATE/{{host_id}}",
                    levels.len()
                )));
            };
            check_id("host_id", host).map_err(bad)?;
            return Ok(Topic::State {
                host_id: host.to_string(),
            });
        }
        let (group, kind, node, device) = match levels[..] {
            [_, g, k, n] => (g, k, n, None),
            [_, g, k, n, d] => (g, k, n, Some(d)),
            _ => {
                return Err(bad(format!(
                    "{} levels; expected spBv1.0/{{group}}/{{type}}/{{node}}[/{{device}}]",
                    levels.len()
                )))
            }
        };
        let message_type = MessageType::ALL
            .into_iter()
            .find(|t| t.as_str() == kind)
            .ok_or_else(|| {
                bad(format!(
                    "'{kind}' is not a message type (NBIRTH, NDEATH, DBIRTH, DDEATH, NDATA, \
                     DDATA, NCMD, DCMD or STATE)"
                ))
            })?;
        check_id("group_id", group).map_err(bad)?;
        check_id("edge_node_id", node).map_err(bad)?;
        match (message_type.is_device(), device) {
            (true, None) => {
                return Err(bad(format!(
                    "{kind} needs a device: spBv1.0/{group}/{kind}/{node}/{{device}}"
                )))
            }
            (false, Some(d)) => {
                return Err(bad(format!(
                    "{kind} is an edge node's message and takes no device level ('{d}')"
                )))
            }
            (_, Some(d)) => check_id("device_id", d).map_err(bad)?,
            _ => {}
        }
        Ok(Topic::Edge {
            group_id: group.to_string(),
            message_type,
            edge_node_id: node.to_string(),
            device_id: device.map(str::to_string),
        })
    }

    /// An edge node's or device's topic; `device_id` for the `D…` types only.
    pub fn edge(group: &str, kind: MessageType, node: &str, device: Option<&str>) -> String {
        match device {
            Some(d) => format!("{NAMESPACE}/{group}/{}/{node}/{d}", kind.as_str()),
            None => format!("{NAMESPACE}/{group}/{}/{node}", kind.as_str()),
        }
    }
}

/// Checks a group, edge node, device or host id: not empty, and none of `/`, `+`, `#`
/// (Sparkplug 3.0 §4.1.1). The error names `what`.
pub fn check_id(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if id.contains(['/', '+', '#', '\0']) {
        return Err(format!(
            "the {what} '{id}' contains '/', '+', '#' or NUL, which Sparkplug ids may not"
        ));
    }
    Ok(())
}

/// A decoded Sparkplug message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// A protobuf payload on an edge node's or device's topic.
    Edge {
        /// Where it came from.
        topic: Topic,
        /// What it carries.
        payload: Payload,
    },
    /// A host application's STATE (Sparkplug 3.0: JSON `{"online","timestamp"}`).
    State {
        /// The host application.
        host_id: String,
        /// Whether it is online.
        online: bool,
        /// When, Unix epoch milliseconds.
        timestamp: Option<u64>,
    },
}

/// Decodes the payload published on `topic`. Topics outside `spBv1.0/` are refused before the
/// bytes are looked at ([`Error::NotSparkplug`]), so plain JSON is never read as protobuf.
pub fn decode(topic: &str, bytes: &[u8]) -> Result<Message, Error> {
    let parsed = Topic::parse(topic)?;
    let bad = |reason: String| Error::Payload {
        topic: topic.to_string(),
        reason,
    };
    match parsed {
        Topic::State { host_id } => {
            #[derive(serde::Deserialize)]
            struct State {
                online: bool,
                timestamp: Option<u64>,
            }
            let state: State = serde_json::from_slice(bytes).map_err(|e| {
                bad(format!(
                    "a STATE payload is JSON {{\"online\",\"timestamp\"}}: {e}"
                ))
            })?;
            Ok(Message::State {
                host_id,
                online: state.online,
                timestamp: state.timestamp,
            })
        }
        topic => Payload::decode(bytes)
            .map(|payload| Message::Edge { topic, payload })
            .map_err(|e| bad(format!("not a Sparkplug B protobuf payload: {e}"))),
    }
}

/// Why a topic or payload was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The topic is not under `spBv1.0/`.
    NotSparkplug {
        /// The topic.
        topic: String,
    },
    /// The topic is under `spBv1.0/` but malformed.
    Topic {
        /// The topic.
        topic: String,
        /// What is wrong.
        reason: String,
    },
    /// The payload could not be read.
    Payload {
        /// The topic it came on.
        topic: String,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotSparkplug { topic } => write!(
                f,
                "'{topic}' is not a Sparkplug B topic (those start with {NAMESPACE}/)"
            ),
            Error::Topic { topic, reason } => write!(f, "Sparkplug topic '{topic}': {reason}"),
            Error::Payload { topic, reason } => {
                write!(f, "Sparkplug payload on '{topic}': {reason}")
            }
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes from Google's protobuf runtime with the published sparkplug_b.proto
    /// (gateway-shim/tests/peers/sparkplug/vectors.py prints them).
    const NBIRTH: &str = "08fba8f094ac3312140a056264536571100018fba8f094ac332008580712230a144e6f646520436f6e74726f6c2f52656269727468100118fba8f094ac33200b70001800";
    const DBIRTH: &str = "08c8a9f094ac3312280a127072657373312f74656d7065726174757265100218c8a9f094ac33200a693333333333d35140121f0a0c7072657373312f636f756e74100318c8a9f094ac33200350fbffffff0f121a0a087072657373312f66100418c8a9f094ac332009650000c03f12220a0a7072657373312f626967100518c8a9f094ac33200458feffffffffffffffff0112190a0a7072657373312f6f6666100618c8a9f094ac33200a3801121d0a0c7072657373312f6c6162656c100718c8a9f094ac33200c7a026f6b1801";
    const DDATA: &str = "08e8aff094ac331214100218e8aff094ac33200a69000000000000d0bf1216100518e8aff094ac33200458feffffffffffffffff0118ff01";
    const NCMD_REBIRTH: &str =
        "08d0b7f094ac33121a0a144e6f646520436f6e74726f6c2f52656269727468200b7001";
    const WITH_PROPERTIES: &str = "080112240a016d1009200a4a120a07656e67556e69741207080c4203c2b04369000000000000004012160a02647320108a010d0801120163180322040a020804122e0a0374706c20139201240a013112120a05696e6e6572200a6900000000000008401a090a037061721003180128011802220175";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn edge(topic: &str, bytes: &[u8]) -> Payload {
        match decode(topic, bytes).unwrap() {
            Message::Edge { payload, .. } => payload,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_an_independent_encoders_births_and_data() {
        let nbirth = edge("spBv1.0/g/NBIRTH/n", &hex(NBIRTH));
        assert_eq!(nbirth.timestamp, Some(1764201600123));
        assert_eq!(nbirth.seq, Some(0));
        let names: Vec<_> = nbirth.metrics.iter().map(|m| m.name.as_deref()).collect();
        assert_eq!(names, [Some(BD_SEQ), Some(REBIRTH)]);
        assert_eq!(nbirth.metrics[0].value_f64(), Some(7.0));
        assert_eq!(nbirth.metrics[1].value_f64(), Some(0.0));

        let dbirth = edge("spBv1.0/g/DBIRTH/n/press1", &hex(DBIRTH));
        let read: Vec<_> = dbirth
            .metrics
            .iter()
            .map(|m| (m.name.clone().unwrap(), m.alias.unwrap(), m.value_f64()))
            .collect();
        assert_eq!(
            read,
            [
                ("press1/temperature".into(), 2, Some(71.3)),
                ("press1/count".into(), 3, Some(-5.0)),
                ("press1/f".into(), 4, Some(1.5)),
                ("press1/big".into(), 5, Some(-2.0)),
                ("press1/off".into(), 6, None),
                ("press1/label".into(), 7, None),
            ]
        );
        assert_eq!(
            dbirth.metrics[5].value,
            Some(MetricValue::StringValue("ok".into()))
        );

        let ddata = edge("spBv1.0/g/DDATA/n/press1", &hex(DDATA));
        assert_eq!(ddata.seq, Some(255));
        assert_eq!(ddata.metrics[0].name, None, "data messages go by alias");
        assert_eq!(ddata.metrics[0].alias, Some(2));
        assert_eq!(ddata.metrics[0].value_f64(), Some(-0.25));
    }

    /// What this crate writes is byte for byte what the reference encoder writes.
    #[test]
    fn writes_the_same_bytes_as_the_independent_encoder() {
        let t = 1764201600123;
        let mut rebirth = Metric::birth(REBIRTH, 1, t, 0.0);
        rebirth.datatype = Some(DataType::Boolean as u32);
        rebirth.value = Some(MetricValue::BooleanValue(false));
        let mut bd_seq = Metric::birth(BD_SEQ, 0, t, 0.0);
        bd_seq.datatype = Some(DataType::UInt64 as u32);
        bd_seq.value = Some(MetricValue::LongValue(7));
        let nbirth = Payload {
            timestamp: Some(t),
            metrics: vec![bd_seq, rebirth],
            seq: Some(0),
            ..Payload::default()
        };
        assert_eq!(nbirth.to_bytes(), hex(NBIRTH));

        let t = 1764201601000;
        let mut big = Metric::data(5, t, 0.0);
        big.datatype = Some(DataType::Int64 as u32);
        big.value = Some(MetricValue::LongValue(-2i64 as u64));
        let ddata = Payload {
            timestamp: Some(t),
            metrics: vec![Metric::data(2, t, -0.25), big],
            seq: Some(255),
            ..Payload::default()
        };
        assert_eq!(ddata.to_bytes(), hex(DDATA));
    }

    #[test]
    fn nested_messages_keep_their_fields() {
        let p = edge("spBv1.0/g/NDATA/n", &hex(WITH_PROPERTIES));
        assert_eq!(p.uuid.as_deref(), Some("u"));
        let props = p.metrics[0].properties.as_ref().unwrap();
        assert_eq!(props.keys, ["engUnit"]);
        assert_eq!(
            props.values[0].value,
            Some(PropertyValueValue::StringValue("°C".into()))
        );
        let Some(MetricValue::DatasetValue(ds)) = &p.metrics[1].value else {
            panic!("{:?}", p.metrics[1])
        };
        assert_eq!(
            (ds.num_of_columns, &ds.columns[..]),
            (Some(1), &["c".to_string()][..])
        );
        assert_eq!(ds.types, [DataType::Int32 as u32]);
        assert_eq!(ds.rows[0].elements[0].value, Some(ScalarValue::IntValue(4)));
        let Some(MetricValue::TemplateValue(tpl)) = &p.metrics[2].value else {
            panic!("{:?}", p.metrics[2])
        };
        assert_eq!(tpl.is_definition, Some(true));
        assert_eq!(tpl.metrics[0].value_f64(), Some(3.0));
        assert_eq!(tpl.parameters[0].value, Some(ParameterValue::IntValue(1)));
        // And the whole payload writes back to the same bytes.
        assert_eq!(p.to_bytes(), hex(WITH_PROPERTIES));
    }

    #[test]
    fn a_rebirth_command_is_read() {
        let cmd = edge("spBv1.0/g/NCMD/n", &hex(NCMD_REBIRTH));
        assert_eq!(cmd.metrics[0].name.as_deref(), Some(REBIRTH));
        assert_eq!(cmd.metrics[0].value_f64(), Some(1.0));
    }

    #[test]
    fn topics_parse_and_print() {
        for (kind, device) in [
            (MessageType::NBirth, None),
            (MessageType::DData, Some("press1")),
            (MessageType::NCmd, None),
            (MessageType::DDeath, Some("d")),
        ] {
            let text = Topic::edge("plant1", kind, "pc-7", device);
            assert_eq!(
                Topic::parse(&text).unwrap(),
                Topic::Edge {
                    group_id: "plant1".into(),
                    message_type: kind,
                    edge_node_id: "pc-7".into(),
                    device_id: device.map(Into::into),
                },
                "{text}"
            );
        }
        assert_eq!(
            Topic::parse("spBv1.0/STATE/scada1").unwrap(),
            Topic::State {
                host_id: "scada1".into()
            }
        );
    }

    #[test]
    fn bad_topics_say_what_is_wrong() {
        let cases = [
            ("spBv1.0/g/NBIRTH", "3 levels"),
            ("spBv1.0/g/NBIRTH/n/d/x", "6 levels"),
            ("spBv1.0/g/NBORTH/n", "'NBORTH' is not a message type"),
            ("spBv1.0/g/DDATA/n", "DDATA needs a device"),
            ("spBv1.0/g/NDATA/n/d", "takes no device level ('d')"),
            ("spBv1.0//NDATA/n", "group_id is empty"),
            ("spBv1.0/g/NDATA/+", "edge_node_id '+'"),
            (
                "spBv1.0/STATE/a/b",
                "STATE topics are spBv1.0/STATE/{host_id}",
            ),
        ];
        for (topic, says) in cases {
            let e = Topic::parse(topic).unwrap_err();
            assert!(matches!(e, Error::Topic { .. }), "{topic}: {e:?}");
            assert!(e.to_string().contains(says), "{topic}: {e}");
        }
    }

    /// Only `spBv1.0/` is read as protobuf: valid protobuf bytes elsewhere are refused unread.
    #[test]
    fn decodes_only_under_the_namespace() {
        for topic in [
            "plant1/press1",
            "spBv1.0x/g/NDATA/n",
            "spAv1.0/g/NDATA/n",
            "",
        ] {
            assert_eq!(
                decode(topic, &hex(NBIRTH)).unwrap_err(),
                Error::NotSparkplug {
                    topic: topic.into()
                }
            );
        }
    }

    #[test]
    fn bad_payloads_are_errors_not_panics() {
        let e = decode("spBv1.0/g/NDATA/n", &[0x12, 0x05, 0x0a]).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "Sparkplug payload on 'spBv1.0/g/NDATA/n': not a Sparkplug B protobuf payload"
            ),
            "{e}"
        );
        let e = decode("spBv1.0/STATE/h", b"\x08\x01").unwrap_err();
        assert!(e.to_string().contains("STATE payload is JSON"), "{e}");
        assert_eq!(
            decode("spBv1.0/STATE/h", br#"{"online":true,"timestamp":5}"#).unwrap(),
            Message::State {
                host_id: "h".into(),
                online: true,
                timestamp: Some(5)
            }
        );
        // A truncated birth: every prefix is an error or a payload, never a panic; the same for
        // a birth with one byte changed, at every position to every value.
        let bytes = hex(DBIRTH);
        for n in 0..bytes.len() {
            let _ = decode("spBv1.0/g/DBIRTH/n/d", &bytes[..n]);
        }
        let mut errors = 0;
        for i in 0..bytes.len() {
            for b in 0..=255u8 {
                let mut changed = bytes.clone();
                changed[i] = b;
                if let Ok(Message::Edge { payload, .. }) = decode("spBv1.0/g/DBIRTH/n/d", &changed)
                {
                    let _ = payload.metrics.iter().map(Metric::value_f64).count();
                } else {
                    errors += 1;
                }
            }
        }
        assert!(errors > 0, "some changes make the payload unreadable");
    }
}
