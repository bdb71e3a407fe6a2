//! The Settings tab's controller: theme, scale, keyboard and log size, the named presets of the
//! Server, Client and HTTP tabs, and the settings file they are kept in. The last-used fields
//! of every tab are saved whenever something starts and when the window closes.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::client::ClientController;
use super::log::LogController;
use super::ui::{
    AppWindow, ClientAdapter, HttpAdapter, KeyboardState, PresetRow, ServerAdapter,
    SettingsAdapter, Tab, Theme,
};
use super::{client, http, server};
use crate::config::{self, Config, Loaded, PresetKind, Presets};
use crate::forms::parse::{parse_log_lines, parse_proxy, preset_name};
use crate::net::http::proxy::masked;

/// The scales the Settings tab offers, in the order of `SettingsAdapter.scales`.
const SCALES: [f32; 5] = [0.75, 1.0, 1.25, 1.5, 2.0];

pub struct SettingsController {
    window: slint::Weak<AppWindow>,
    /// None: settings live in memory only.
    path: Option<PathBuf>,
    /// False when the file could not be read and could not be backed up: it is never
    /// overwritten then.
    can_save: bool,
    /// What was wrong with the file when it was read; it stays shown after later saves.
    load_warning: SharedString,
    /// Kiosk mode turns the keyboard on without making that the user's setting.
    keyboard_forced: bool,
    /// The scale the window runs at: `--scale`, else the saved one (a new choice applies
    /// from the next start).
    scale_in_effect: f32,
    /// `--stage` turns stage text on until the user chooses otherwise here.
    stage_asked: bool,
    /// Read-only settings: nothing is written, and presets stay as they are.
    locked: bool,
    config: RefCell<Config>,
    /// Presets for every user, from the system's file: listed first, locked.
    system: Presets,
    /// The presets as listed, so a row's index names its preset (and whether it is the
    /// system's).
    listed: RefCell<Vec<Listed>>,
    rows: Rc<VecModel<PresetRow>>,
    log: Rc<LogController>,
    client: Rc<ClientController>,
    /// The presets as they were before the last delete, until Undo or another change.
    before_delete: RefCell<Option<Presets>>,
}

impl super::Controller for SettingsController {
    fn window(&self) -> &slint::Weak<AppWindow> {
        &self.window
    }
}

impl SettingsController {
    pub fn setup(
        window: &AppWindow,
        log: Rc<LogController>,
        client: Rc<ClientController>,
        options: &super::GuiOptions,
        loaded: Loaded,
    ) -> Rc<Self> {
        let path = options.config.clone();
        let adapter = window.global::<SettingsAdapter>();
        let rows = Rc::new(VecModel::default());
        adapter.set_presets(ModelRc::from(rows.clone()));
        adapter.set_can_quit(options.can_quit());
        adapter.set_keyboard_forced(options.kiosk);
        // A kiosk's settings may be locked: asked for, or a file this user cannot write.
        let locked = path.is_some()
            && (options.read_only || path.as_deref().is_some_and(|p| !config::is_writable(p)));
        if locked {
            adapter.set_note(
                "Settings are locked: changes here last until netdeck closes, and presets cannot be saved or deleted."
                    .into(),
            );
        }
        adapter.set_config_path(
            path.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "memory only".into())
                .into(),
        );
        let (system, system_warning) = match &options.system_presets {
            Some(path) => config::load_system_presets(path),
            None => Default::default(),
        };
        let warnings: Vec<String> = [loaded.warning, system_warning]
            .into_iter()
            .flatten()
            .collect();
        let load_warning = SharedString::from(warnings.join("; "));
        adapter.set_warning(load_warning.clone());
        let controller = Rc::new(SettingsController {
            window: window.as_weak(),
            path,
            can_save: loaded.can_save && !locked,
            load_warning,
            keyboard_forced: options.kiosk,
            scale_in_effect: options.scale.unwrap_or(loaded.config.settings.scale),
            stage_asked: options.stage,
            locked,
            system,
            config: RefCell::new(loaded.config),
            listed: RefCell::default(),
            rows,
            log,
            client,
            before_delete: RefCell::default(),
        });
        controller.show_settings(&adapter);
        controller.restore_fields();
        controller.list_presets(&adapter);

        let on = |action: fn(&Self, &SettingsAdapter)| {
            super::on(&controller, move |c, w| {
                action(c, &w.global::<SettingsAdapter>())
            })
        };
        adapter.on_theme_changed(on(Self::settings_changed));
        adapter.on_scale_changed(on(Self::scale_changed));
        adapter.on_keyboard_changed(on(Self::settings_changed));
        adapter.on_stage_changed(on(Self::stage_changed));
        adapter.on_log_lines_changed(on(Self::settings_changed));
        adapter.on_proxy_changed(on(Self::settings_changed));
        adapter.on_quit(on(|controller, _| {
            controller.remember();
            let _ = slint::quit_event_loop();
        }));
        let on_row = |action: fn(&Self, &SettingsAdapter, &Listed)| {
            super::on_value(&controller, move |c: &Self, w, index: i32| {
                let preset = c.listed.borrow().get(index as usize).cloned();
                if let Some(preset) = preset {
                    action(c, &w.global::<SettingsAdapter>(), &preset);
                }
            })
        };
        adapter.on_load_preset(on_row(|controller, _, preset| {
            controller.load_preset(preset);
        }));
        adapter.on_run_preset(on_row(|controller, _, preset| {
            if controller.load_preset(preset) {
                controller.run_current(preset.kind);
            }
        }));
        adapter.on_delete_preset(on_row(Self::delete_preset));
        adapter.on_undo_delete(on(Self::undo_delete));
        adapter.on_save_preset(super::on_value(&controller, |c: &Self, w, tab| {
            let kind = match tab {
                Tab::Server => PresetKind::Server,
                Tab::Client => PresetKind::Client,
                Tab::Http => PresetKind::Http,
                Tab::Both | Tab::Udp | Tab::Log | Tab::Settings | Tab::Demo => return,
            };
            c.save_preset(&w.global::<SettingsAdapter>(), kind);
        }));
        controller
    }

    fn show_settings(&self, adapter: &SettingsAdapter) {
        let settings = &self.config.borrow().settings;
        adapter.set_theme(settings.theme.into());
        adapter.set_scale(nearest_scale(self.scale_in_effect) as i32);
        if self.scale_in_effect != settings.scale {
            let from_the_command_line = format!(
                "Scale {}% is in effect, from the command line (--scale).",
                self.scale_in_effect * 100.0
            );
            let note = adapter.get_note();
            adapter.set_note(if note.is_empty() {
                from_the_command_line.into()
            } else {
                format!("{note} {from_the_command_line}").into()
            });
        }
        adapter.set_keyboard(settings.keyboard || self.keyboard_forced);
        adapter.set_stage(settings.stage_text || self.stage_asked);
        adapter.set_log_lines(settings.log_lines.to_string().into());
        let (mode, url) = match settings.proxy.as_str() {
            "off" | "" => (0, ""),
            "system" => (1, ""),
            url => (2, url),
        };
        adapter.set_proxy_mode(mode);
        adapter.set_proxy_url(url.into());
        self.apply_settings();
    }

    fn apply_settings(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let settings = &self.config.borrow().settings;
        window
            .global::<KeyboardState>()
            .set_enabled(settings.keyboard || self.keyboard_forced);
        window
            .global::<Theme>()
            .set_stage(window.global::<SettingsAdapter>().get_stage());
        self.log.set_cap(settings.log_lines);
        window
            .global::<HttpAdapter>()
            .set_proxy_summary(match settings.proxy.as_str() {
                "off" | "" => "none".into(),
                "system" => "the system's (http_proxy, https_proxy, no_proxy)".into(),
                url => masked(url).into(),
            });
    }

    fn settings_changed(&self, adapter: &SettingsAdapter) {
        adapter.set_log_lines_error(SharedString::new());
        adapter.set_proxy_error(SharedString::new());
        let proxy = match adapter.get_proxy_mode() {
            1 => Some("system".to_string()),
            2 => match parse_proxy("proxy", &adapter.get_proxy_url()) {
                Ok(_) => Some(adapter.get_proxy_url().trim().to_string()),
                Err(error) => {
                    adapter.set_proxy_error(error.to_string().into());
                    None
                }
            },
            _ => Some("off".to_string()),
        };
        let log_lines = match parse_log_lines(&adapter.get_log_lines()) {
            Ok(lines) => Some(lines),
            Err(error) => {
                adapter.set_log_lines_error(error.to_string().into());
                None
            }
        };
        {
            let settings = &mut self.config.borrow_mut().settings;
            settings.theme = adapter.get_theme().into();
            if !self.keyboard_forced {
                settings.keyboard = adapter.get_keyboard();
            }
            if let Some(lines) = log_lines {
                settings.log_lines = lines;
            }
            if let Some(proxy) = proxy {
                settings.proxy = proxy;
            }
        }
        self.apply_settings();
        self.save(adapter);
    }

    /// Stage text changes at once: it is only the size of some texts.
    fn stage_changed(&self, adapter: &SettingsAdapter) {
        self.config.borrow_mut().settings.stage_text = adapter.get_stage();
        self.apply_settings();
        self.save(adapter);
    }

    fn scale_changed(&self, adapter: &SettingsAdapter) {
        // The renderer sizes its buffers at start, so a new scale applies from the next start.
        let scale = SCALES[(adapter.get_scale().max(0) as usize).min(SCALES.len() - 1)];
        self.config.borrow_mut().settings.scale = scale;
        if self.save(adapter) {
            adapter.set_note(
                format!("Scale {}% applies when netdeck starts next.", scale * 100.0).into(),
            );
        }
    }

    /// Puts the last-used fields back into every tab.
    fn restore_fields(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let config = self.config.borrow();
        server::restore(&window, &config.server);
        client::restore(&window, &config.client);
        http::restore(&window, &config.http);
    }

    /// Saves what every tab holds now as its last-used fields.
    pub fn remember(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        {
            let mut config = self.config.borrow_mut();
            config.server = server::fields(&window);
            config.client = client::fields(&window);
            config.http = http::fields(&window);
        }
        self.save(&window.global::<SettingsAdapter>());
    }

    fn save_preset(&self, adapter: &SettingsAdapter, kind: PresetKind) {
        adapter.set_preset_error(SharedString::new());
        let Some(window) = self.window.upgrade() else {
            return;
        };
        if self.refused_while_locked(adapter) {
            return;
        }
        let name = match preset_name(&adapter.get_preset_name()) {
            Ok(name) => name,
            Err(error) => {
                adapter.set_preset_error(error.to_string().into());
                return;
            }
        };
        if self.system.contains(kind, &name) {
            adapter.set_preset_error(
                format!("“{name}” is a system preset, which cannot be changed here; choose another name.")
                    .into(),
            );
            return;
        }
        {
            let presets = &mut self.config.borrow_mut().presets;
            match kind {
                PresetKind::Server => {
                    presets.server.insert(name.clone(), server::fields(&window));
                }
                PresetKind::Client => {
                    presets.client.insert(name.clone(), client::fields(&window));
                }
                PresetKind::Http => {
                    presets.http.insert(name.clone(), http::fields(&window));
                }
            }
        }
        self.list_presets(adapter);
        if self.save(adapter) {
            adapter.set_preset_status(format!("Saved {} preset “{name}”.", kind.tab()).into());
        }
    }

    /// Fills the preset's tab with it and shows that tab; false if it is gone.
    fn load_preset(&self, preset: &Listed) -> bool {
        let Some(window) = self.window.upgrade() else {
            return false;
        };
        let config = self.config.borrow();
        let presets = if preset.system {
            &self.system
        } else {
            &config.presets
        };
        let name = preset.name.as_str();
        let (found, tab) = match preset.kind {
            PresetKind::Server => (
                presets
                    .server
                    .get(name)
                    .map(|p| server::restore(&window, p)),
                Tab::Server,
            ),
            PresetKind::Client => (
                presets
                    .client
                    .get(name)
                    .map(|p| client::restore(&window, p)),
                Tab::Client,
            ),
            PresetKind::Http => (
                presets.http.get(name).map(|p| http::restore(&window, p)),
                Tab::Http,
            ),
        };
        if found.is_some() {
            window.set_current_tab(tab);
        }
        found.is_some()
    }

    /// Starts the server, connects and sends, or sends the request, as the tab's own buttons
    /// do.
    fn run_current(&self, kind: PresetKind) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        match kind {
            PresetKind::Server => window.global::<ServerAdapter>().invoke_start(),
            PresetKind::Client => (self.client).connect_and_send(&window.global::<ClientAdapter>()),
            PresetKind::Http => window.global::<HttpAdapter>().invoke_send(),
        }
    }

    fn delete_preset(&self, adapter: &SettingsAdapter, preset: &Listed) {
        if preset.system {
            adapter.set_preset_error("System presets cannot be deleted here.".into());
            return;
        }
        if self.refused_while_locked(adapter) {
            return;
        }
        let (kind, name) = (preset.kind, &preset.name);
        let before = self.config.borrow().presets.clone();
        self.config.borrow_mut().presets.remove(kind, name);
        self.list_presets(adapter);
        if self.save(adapter) {
            adapter.set_preset_status(format!("Deleted {} preset “{name}”.", kind.tab()).into());
            *self.before_delete.borrow_mut() = Some(before);
            adapter.set_can_undo_delete(true);
        }
    }

    /// Brings back the presets as they were before the last delete.
    fn undo_delete(&self, adapter: &SettingsAdapter) {
        let Some(before) = self.before_delete.borrow_mut().take() else {
            return;
        };
        self.config.borrow_mut().presets = before;
        self.list_presets(adapter);
        if self.save(adapter) {
            adapter.set_preset_status("The deleted preset is back.".into());
        }
    }

    /// Says so under the preset name when the settings are locked.
    fn refused_while_locked(&self, adapter: &SettingsAdapter) -> bool {
        if self.locked {
            adapter.set_preset_error("Settings are locked: presets cannot be changed here.".into());
        }
        self.locked
    }

    fn list_presets(&self, adapter: &SettingsAdapter) {
        // Any change to the list ends what Undo could bring back; a delete sets it again.
        self.before_delete.borrow_mut().take();
        adapter.set_can_undo_delete(false);
        let config = self.config.borrow();
        let system = self.system.summaries().map(|preset| (preset, true));
        let user = config.presets.summaries().map(|preset| (preset, false));
        let (listed, rows): (Vec<_>, Vec<_>) = system
            .chain(user)
            .map(|((kind, name, summary), system)| {
                let listed = Listed {
                    kind,
                    name: name.clone(),
                    system,
                };
                (listed, row(kind, name, summary, system))
            })
            .unzip();
        adapter.set_preset_status(
            format!(
                "{} presets: Load fills their tab, Run also starts it.",
                listed.len()
            )
            .into(),
        );
        self.rows.set_vec(rows);
        *self.listed.borrow_mut() = listed;
    }

    /// Writes the settings file; a failure is shown, never hidden. True when written.
    fn save(&self, adapter: &SettingsAdapter) -> bool {
        let Some(path) = &self.path else {
            return true;
        };
        if !self.can_save {
            return false;
        }
        match config::save(path, &self.config.borrow()) {
            Ok(()) => {
                // A failed save's warning goes; the file's own problem stays.
                adapter.set_warning(self.load_warning.clone());
                true
            }
            Err(error) => {
                adapter.set_warning(format!("Settings not saved: {error}").into());
                false
            }
        }
    }
}

fn row(kind: PresetKind, name: &str, summary: String, system: bool) -> PresetRow {
    PresetRow {
        kind: kind.tab().into(),
        name: name.into(),
        summary: summary.into(),
        locked: system,
    }
}

/// A preset as listed in the Settings tab.
#[derive(Clone)]
struct Listed {
    kind: PresetKind,
    name: String,
    /// From the system's file: it can be run, not changed.
    system: bool,
}

/// The offered scale closest to `scale`.
fn nearest_scale(scale: f32) -> usize {
    SCALES
        .iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| (*a - scale).abs().total_cmp(&(*b - scale).abs()))
        .map(|(index, _)| index)
        .unwrap_or(1)
}
