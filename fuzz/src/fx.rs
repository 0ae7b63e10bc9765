//! `host/src/fx`: the rate table types and the CBR `XML_daily.asp` parser.

#[path = "../../host/src/fx/source.rs"]
pub mod source;

#[path = "../../host/src/fx/cbr/parse.rs"]
pub mod cbr;
