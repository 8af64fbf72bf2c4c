//! `acactl profiles`: the configured profiles as JSON (the exec spawner builds its options form from
//! it, and with `--selected` learns the chosen profile's start timeout) or as a table. No network.

use crate::cli::{ProfilesArgs, TargetArgs};
use crate::env::Env;
use crate::error::Result;
use crate::output::Outcome;
use crate::request;
use crate::settings::Settings;

pub fn run(args: &ProfilesArgs, settings: &Settings, env: &dyn Env) -> Result<Outcome> {
    let user = if args.all { None } else { args.user.clone().or_else(|| env.var("JUPYTERHUB_USER")) };
    let groups = request::user_groups(env)?;
    let mut doc = crate::profiles::listing(settings, user.as_deref().map(|u| (u, groups.as_slice())));
    let table = crate::profiles::table(&doc);
    if args.selected {
        // The same selection `start` makes, so the spawner keeps no copy of its rules.
        let target = request::target(&TargetArgs { user: args.user.clone(), server: None }, env)?;
        let chosen = crate::profiles::select(settings, &target.user, &groups, &request::user_options(env)?)?;
        doc.selected = Some(chosen.into());
    }
    Ok(Outcome::json(doc).table(table))
}
