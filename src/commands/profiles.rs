//! `acactl profiles`: the configured profiles as JSON (the exec spawner builds its options form and
//! its start timeout from it) or as a table. No network.

use crate::cli::ProfilesArgs;
use crate::env::Env;
use crate::error::{Exit, Result};
use crate::output;
use crate::request;
use crate::settings::Settings;

pub fn run(args: &ProfilesArgs, settings: &Settings, env: &dyn Env) -> Result<Exit> {
    let user = if args.all { None } else { args.user.clone().or_else(|| env.var("JUPYTERHUB_USER")) };
    let groups = request::user_groups(env)?;
    let doc = crate::profiles::listing(settings, user.as_deref().map(|u| (u, groups.as_slice())));
    if output::wants_table(args.output) {
        output::text(&crate::profiles::table(&doc));
    } else {
        output::result(&doc);
    }
    Ok(Exit::Ok)
}
