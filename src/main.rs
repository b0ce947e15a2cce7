//! The `corecache` binary: read the settings, run the server, and turn any
//! start-up problem into one clear line and a non-zero exit.

use std::process::ExitCode;

use corecache::config::Settings;

fn main() -> ExitCode {
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("corecache: {err}");
            return ExitCode::from(2);
        }
    };
    match corecache::server::run(settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("corecache: {err}");
            ExitCode::FAILURE
        }
    }
}
