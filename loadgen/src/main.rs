//! `loadgen`: the bundled load generator. Its own issue fills it in; until
//! then it only says so, so that the workspace builds and scripts can find it.

fn main() {
    eprintln!("loadgen: not implemented yet (see the loadgen issue)");
    std::process::exit(2);
}
