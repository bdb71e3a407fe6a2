//! netdeck: a touch-friendly network workbench. The engine (`net`) is async and UI-free; the
//! GUI (`gui`) and the headless commands (`cli`) both drive it.

pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod forms;
pub mod gui;
pub mod net;
pub mod payload;
pub mod report;
