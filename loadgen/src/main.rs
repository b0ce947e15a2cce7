//! `loadgen`: runs a load (see `loadgen --help`) and prints its report, or
//! `loadgen plot a.json b.json -o cmp.svg` draws several reports' curves.

use std::process::ExitCode;

use clap::Parser;
use loadgen::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Plot(args)) => loadgen::plot(args),
        None => loadgen::run(&cli.run).map(|report| print!("{}", report.text())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loadgen: {error}");
            ExitCode::FAILURE
        }
    }
}
