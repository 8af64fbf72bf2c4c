//! `acactl profiles`: the configured profiles as JSON (the exec spawner builds its options form and
//! its start timeout from it) or as a table. No network.

use crate::cli::ProfilesArgs;
use crate::env::Env;
use crate::error::Result;
use crate::output::Outcome;
use crate::request;
use crate::settings::Settings;

pub fn run(args: &ProfilesArgs, settings: &Settings, env: &dyn Env) -> Result<Outcome> {
    let user = if args.all { None } else { args.user.clone().or_else(|| env.var("JUPYTERHUB_USER")) };
    let groups = request::user_groups(env)?;
    let doc = crate::profiles::listing(settings, user.as_deref().map(|u| (u, groups.as_slice())));
    let table = crate::profiles::table(&doc);
    Ok(Outcome::json(doc).table(table))
}
