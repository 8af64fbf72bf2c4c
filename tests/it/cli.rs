//! --help, usage errors, and the committed completions and man page being current.

use assert_cmd::Command;

use crate::common::run;

fn acactl() -> Command {
    let mut c = Command::cargo_bin("acactl").unwrap();
    c.env_clear();
    c
}

#[test]
fn every_command_has_help_with_an_example() {
    // Every visible subcommand, as the top-level help lists them.
    let top = run(acactl().arg("--help")).stdout;
    let commands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ")) // not wrapped description lines
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 8, "{commands:?}");
    for cmd in &commands {
        let r = run(acactl().args([cmd.as_str(), "--help"]));
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("Example"), "{cmd} --help lacks an example:\n{}", r.stdout);
    }
    let r = run(acactl().arg("--help"));
    assert!(r.stdout.contains("Exit codes"));
}

#[test]
fn usage_errors_exit_2() {
    let r = run(acactl().arg("frobnicate"));
    assert_eq!(r.code, 2);
    let r = run(acactl().args(["poll", "--bogus"]));
    assert_eq!(r.code, 2);
}

#[test]
fn committed_completions_and_man_page_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (what, file) in [
        ("man", "man/acactl.1"),
        ("complete-bash", "completions/acactl.bash"),
        ("complete-zsh", "completions/_acactl"),
        ("complete-fish", "completions/acactl.fish"),
        ("complete-elvish", "completions/acactl.elv"),
        ("complete-powershell", "completions/_acactl.ps1"),
    ] {
        let generated = acactl().args(["generate", what]).output().unwrap().stdout;
        let committed = std::fs::read(root.join(file)).unwrap_or_default();
        assert!(
            generated == committed,
            "{file} is stale: run `cargo run -- generate {what} > {file}` (or .ci/regenerate)"
        );
    }
}

#[test]
fn readme_module_map_matches_the_tree() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let map = readme.split("<!-- module-map -->").nth(1).and_then(|r| r.split("<!-- /module-map -->").next()).unwrap();
    let mut listed: Vec<String> = map
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next().map(str::to_string))
        .filter(|p| p.starts_with("src/"))
        .collect();
    listed.sort();
    fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|x| x == "rs") && p.file_name().is_some_and(|n| n != "tests.rs") {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut tree = Vec::new();
    walk(&root.join("src"), root, &mut tree);
    tree.sort();
    assert_eq!(listed, tree, "README's module map (between the module-map markers) and src/ differ");
}
