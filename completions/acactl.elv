
use builtin;
use str;

set edit:completion:arg-completer[acactl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'acactl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'acactl'= {
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand start 'Create (or adopt) the user''s container app and wait until the notebook server answers'
            cand poll 'Report whether the server''s container app is running (always exits 0 but for usage errors)'
            cand stop 'Delete the server''s container app (idempotent)'
            cand batch 'batchspawner''s command contract: submit, query and cancel by app name'
            cand status 'List this hub''s container apps (by ownership tags): user, server, status, URL, image, size, age'
            cand gc 'Delete apps whose JupyterHub server no longer exists, and terminally failed apps'
            cand doctor 'Check configuration, credentials, Azure resources and permissions; each check says how to fix it'
            cand profiles 'List the configured profiles (JSON for the exec spawner''s options form, or a table)'
            cand generate 'Print shell completions or the man page (used to refresh completions/ and man/)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'acactl;start'= {
            cand --user 'JupyterHub user name (overrides JUPYTERHUB_USER)'
            cand --server 'Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default server)'
            cand --progress 'How to report start-up progress on stderr'
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand --dry-run 'Print the exact ARM request (secrets redacted) and exit; no network, no credentials'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'acactl;poll'= {
            cand --user 'JupyterHub user name (overrides JUPYTERHUB_USER)'
            cand --server 'Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default server)'
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'acactl;stop'= {
            cand --user 'JupyterHub user name (overrides JUPYTERHUB_USER)'
            cand --server 'Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default server)'
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'acactl;batch'= {
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand submit 'Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM accepted it'
            cand query 'Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0'
            cand cancel 'Delete the app (idempotent)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'acactl;batch;submit'= {
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'acactl;batch;query'= {
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'acactl;batch;cancel'= {
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'acactl;batch;help'= {
            cand submit 'Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM accepted it'
            cand query 'Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0'
            cand cancel 'Delete the app (idempotent)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'acactl;batch;help;submit'= {
        }
        &'acactl;batch;help;query'= {
        }
        &'acactl;batch;help;cancel'= {
        }
        &'acactl;batch;help;help'= {
        }
        &'acactl;status'= {
            cand --user 'Only this JupyterHub user''s apps'
            cand --server 'Only this named server ("" = the default server)'
            cand -o 'Output format (default: table on a terminal, json otherwise)'
            cand --output 'Output format (default: table on a terminal, json otherwise)'
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand --all-hubs 'Apps of every hub in the resource group (acactl-managed), labelled by hub'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'acactl;gc'= {
            cand --grace 'Minimum age of an orphan before it is deleted: 90s, 30m, 2h, 1d or seconds (default: the largest start timeout + hub.http_timeout + 5 minutes)'
            cand --concurrency 'Deletes in flight at once'
            cand -o 'Output format (default: table on a terminal, json otherwise)'
            cand --output 'Output format (default: table on a terminal, json otherwise)'
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand --dry-run 'List what would be deleted and why; delete nothing'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'acactl;doctor'= {
            cand -o 'Output format (default: a table on a terminal, JSON otherwise)'
            cand --output 'Output format (default: a table on a terminal, JSON otherwise)'
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'acactl;profiles'= {
            cand -o 'Output format (default: a table on a terminal, JSON otherwise)'
            cand --output 'Output format (default: a table on a terminal, JSON otherwise)'
            cand --user 'Only the profiles this hub user may use (overrides JUPYTERHUB_USER; groups from ACACTL_USER_GROUPS)'
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand --all 'List every profile, ignoring JUPYTERHUB_USER'
            cand --selected 'Also print "selected": the profile, choices and start_timeout (seconds) that `start` would use for the user options in ACACTL_USER_OPTIONS; invalid options are the error `start` would give'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'acactl;generate'= {
            cand -c 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --config 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)'
            cand --subscription 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)'
            cand --resource-group 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)'
            cand --environment 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)'
            cand -v 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand --verbose 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'acactl;help'= {
            cand start 'Create (or adopt) the user''s container app and wait until the notebook server answers'
            cand poll 'Report whether the server''s container app is running (always exits 0 but for usage errors)'
            cand stop 'Delete the server''s container app (idempotent)'
            cand batch 'batchspawner''s command contract: submit, query and cancel by app name'
            cand status 'List this hub''s container apps (by ownership tags): user, server, status, URL, image, size, age'
            cand gc 'Delete apps whose JupyterHub server no longer exists, and terminally failed apps'
            cand doctor 'Check configuration, credentials, Azure resources and permissions; each check says how to fix it'
            cand profiles 'List the configured profiles (JSON for the exec spawner''s options form, or a table)'
            cand generate 'Print shell completions or the man page (used to refresh completions/ and man/)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'acactl;help;start'= {
        }
        &'acactl;help;poll'= {
        }
        &'acactl;help;stop'= {
        }
        &'acactl;help;batch'= {
            cand submit 'Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM accepted it'
            cand query 'Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0'
            cand cancel 'Delete the app (idempotent)'
        }
        &'acactl;help;batch;submit'= {
        }
        &'acactl;help;batch;query'= {
        }
        &'acactl;help;batch;cancel'= {
        }
        &'acactl;help;status'= {
        }
        &'acactl;help;gc'= {
        }
        &'acactl;help;doctor'= {
        }
        &'acactl;help;profiles'= {
        }
        &'acactl;help;generate'= {
        }
        &'acactl;help;help'= {
        }
    ]
    $completions[$command]
}
