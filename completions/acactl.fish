# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_acactl_global_optspecs
    string join \n c/config= subscription= resource-group= environment= v/verbose q/quiet h/help V/version
end

function __fish_acactl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_acactl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_acactl_using_subcommand
    set -l cmd (__fish_acactl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c acactl -n "__fish_acactl_needs_command" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_needs_command" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_needs_command" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_needs_command" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_needs_command" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c acactl -n "__fish_acactl_needs_command" -s V -l version -d 'Print version'
complete -c acactl -n "__fish_acactl_needs_command" -f -a "start" -d 'Create (or adopt) the user\'s container app and wait until the notebook server answers'
complete -c acactl -n "__fish_acactl_needs_command" -f -a "poll" -d 'Report whether the server\'s container app is running (always exits 0 but for usage errors)'
complete -c acactl -n "__fish_acactl_needs_command" -f -a "stop" -d 'Delete the server\'s container app (idempotent)'
complete -c acactl -n "__fish_acactl_needs_command" -f -a "batch" -d 'batchspawner\'s command contract: submit, query and cancel by app name'
complete -c acactl -n "__fish_acactl_needs_command" -f -a "status" -d 'List this hub\'s container apps (by ownership tags): user, server, status, URL, image, size, age'
complete -c acactl -n "__fish_acactl_needs_command" -f -a "gc" -d 'Delete apps whose JupyterHub server no longer exists, and terminally failed apps'
complete -c acactl -n "__fish_acactl_needs_command" -f -a "doctor" -d 'Check configuration, credentials, Azure resources and permissions; each check says how to fix it'
complete -c acactl -n "__fish_acactl_needs_command" -f -a "profiles" -d 'List the configured profiles (JSON for the exec spawner\'s options form, or a table)'
complete -c acactl -n "__fish_acactl_needs_command" -f -a "generate" -d 'Print shell completions or the man page (used to refresh completions/ and man/)'
complete -c acactl -n "__fish_acactl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c acactl -n "__fish_acactl_using_subcommand start" -l user -d 'JupyterHub user name (overrides JUPYTERHUB_USER)' -r
complete -c acactl -n "__fish_acactl_using_subcommand start" -l server -d 'Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default server)' -r
complete -c acactl -n "__fish_acactl_using_subcommand start" -l progress -d 'How to report start-up progress on stderr' -r -f -a "auto\t'A progress bar on a terminal, plain log lines otherwise'
json\t'JupyterHub-style `{"progress": N, "message": ...}` JSON lines on stderr'
plain\t'Plain log lines'
none\t'No progress output'"
complete -c acactl -n "__fish_acactl_using_subcommand start" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand start" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand start" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand start" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand start" -l dry-run -d 'Print the exact ARM request (secrets redacted) and exit; no network, no credentials'
complete -c acactl -n "__fish_acactl_using_subcommand start" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand start" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c acactl -n "__fish_acactl_using_subcommand poll" -l user -d 'JupyterHub user name (overrides JUPYTERHUB_USER)' -r
complete -c acactl -n "__fish_acactl_using_subcommand poll" -l server -d 'Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default server)' -r
complete -c acactl -n "__fish_acactl_using_subcommand poll" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand poll" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand poll" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand poll" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand poll" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand poll" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand poll" -s h -l help -d 'Print help'
complete -c acactl -n "__fish_acactl_using_subcommand stop" -l user -d 'JupyterHub user name (overrides JUPYTERHUB_USER)' -r
complete -c acactl -n "__fish_acactl_using_subcommand stop" -l server -d 'Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default server)' -r
complete -c acactl -n "__fish_acactl_using_subcommand stop" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand stop" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand stop" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand stop" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand stop" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand stop" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand stop" -s h -l help -d 'Print help'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and not __fish_seen_subcommand_from submit query cancel help" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand batch; and not __fish_seen_subcommand_from submit query cancel help" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and not __fish_seen_subcommand_from submit query cancel help" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and not __fish_seen_subcommand_from submit query cancel help" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and not __fish_seen_subcommand_from submit query cancel help" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and not __fish_seen_subcommand_from submit query cancel help" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and not __fish_seen_subcommand_from submit query cancel help" -s h -l help -d 'Print help'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and not __fish_seen_subcommand_from submit query cancel help" -f -a "submit" -d 'Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM accepted it'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and not __fish_seen_subcommand_from submit query cancel help" -f -a "query" -d 'Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and not __fish_seen_subcommand_from submit query cancel help" -f -a "cancel" -d 'Delete the app (idempotent)'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and not __fish_seen_subcommand_from submit query cancel help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from submit" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from submit" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from submit" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from submit" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from submit" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from submit" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from submit" -s h -l help -d 'Print help'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from query" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from query" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from query" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from query" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from query" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from query" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from query" -s h -l help -d 'Print help'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from cancel" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from cancel" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from cancel" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from cancel" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from cancel" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from cancel" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from help" -f -a "submit" -d 'Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM accepted it'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from help" -f -a "query" -d 'Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Delete the app (idempotent)'
complete -c acactl -n "__fish_acactl_using_subcommand batch; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c acactl -n "__fish_acactl_using_subcommand status" -l user -d 'Only this JupyterHub user\'s apps' -r
complete -c acactl -n "__fish_acactl_using_subcommand status" -l server -d 'Only this named server ("" = the default server)' -r
complete -c acactl -n "__fish_acactl_using_subcommand status" -s o -l output -d 'Output format (default: table on a terminal, json otherwise)' -r -f -a "table\t''
json\t''"
complete -c acactl -n "__fish_acactl_using_subcommand status" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand status" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand status" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand status" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand status" -l all-hubs -d 'Apps of every hub in the resource group (acactl-managed), labelled by hub'
complete -c acactl -n "__fish_acactl_using_subcommand status" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand status" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand status" -s h -l help -d 'Print help'
complete -c acactl -n "__fish_acactl_using_subcommand gc" -l grace -d 'Minimum age of an orphan before it is deleted: 90s, 30m, 2h, 1d or seconds (default: the largest start timeout + hub.http_timeout + 5 minutes)' -r
complete -c acactl -n "__fish_acactl_using_subcommand gc" -l concurrency -d 'Deletes in flight at once' -r
complete -c acactl -n "__fish_acactl_using_subcommand gc" -s o -l output -d 'Output format (default: table on a terminal, json otherwise)' -r -f -a "table\t''
json\t''"
complete -c acactl -n "__fish_acactl_using_subcommand gc" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand gc" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand gc" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand gc" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand gc" -l dry-run -d 'List what would be deleted and why; delete nothing'
complete -c acactl -n "__fish_acactl_using_subcommand gc" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand gc" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand gc" -s h -l help -d 'Print help'
complete -c acactl -n "__fish_acactl_using_subcommand doctor" -s o -l output -d 'Output format (default: a table on a terminal, JSON otherwise)' -r -f -a "table\t''
json\t''"
complete -c acactl -n "__fish_acactl_using_subcommand doctor" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand doctor" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand doctor" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand doctor" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand doctor" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand doctor" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c acactl -n "__fish_acactl_using_subcommand profiles" -s o -l output -d 'Output format (default: a table on a terminal, JSON otherwise)' -r -f -a "table\t''
json\t''"
complete -c acactl -n "__fish_acactl_using_subcommand profiles" -l user -d 'Only the profiles this hub user may use (overrides JUPYTERHUB_USER; groups from ACACTL_USER_GROUPS)' -r
complete -c acactl -n "__fish_acactl_using_subcommand profiles" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand profiles" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand profiles" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand profiles" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand profiles" -l all -d 'List every profile, ignoring JUPYTERHUB_USER'
complete -c acactl -n "__fish_acactl_using_subcommand profiles" -l selected -d 'Also print "selected": the profile, choices and start_timeout (seconds) that `start` would use for the user options in ACACTL_USER_OPTIONS; invalid options are the error `start` would give'
complete -c acactl -n "__fish_acactl_using_subcommand profiles" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand profiles" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand profiles" -s h -l help -d 'Print help'
complete -c acactl -n "__fish_acactl_using_subcommand generate" -s c -l config -d 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)' -r -F
complete -c acactl -n "__fish_acactl_using_subcommand generate" -l subscription -d 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand generate" -l resource-group -d 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand generate" -l environment -d 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)' -r
complete -c acactl -n "__fish_acactl_using_subcommand generate" -s v -l verbose -d 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)'
complete -c acactl -n "__fish_acactl_using_subcommand generate" -s q -l quiet -d 'Only errors on stderr'
complete -c acactl -n "__fish_acactl_using_subcommand generate" -s h -l help -d 'Print help'
complete -c acactl -n "__fish_acactl_using_subcommand help; and not __fish_seen_subcommand_from start poll stop batch status gc doctor profiles generate help" -f -a "start" -d 'Create (or adopt) the user\'s container app and wait until the notebook server answers'
complete -c acactl -n "__fish_acactl_using_subcommand help; and not __fish_seen_subcommand_from start poll stop batch status gc doctor profiles generate help" -f -a "poll" -d 'Report whether the server\'s container app is running (always exits 0 but for usage errors)'
complete -c acactl -n "__fish_acactl_using_subcommand help; and not __fish_seen_subcommand_from start poll stop batch status gc doctor profiles generate help" -f -a "stop" -d 'Delete the server\'s container app (idempotent)'
complete -c acactl -n "__fish_acactl_using_subcommand help; and not __fish_seen_subcommand_from start poll stop batch status gc doctor profiles generate help" -f -a "batch" -d 'batchspawner\'s command contract: submit, query and cancel by app name'
complete -c acactl -n "__fish_acactl_using_subcommand help; and not __fish_seen_subcommand_from start poll stop batch status gc doctor profiles generate help" -f -a "status" -d 'List this hub\'s container apps (by ownership tags): user, server, status, URL, image, size, age'
complete -c acactl -n "__fish_acactl_using_subcommand help; and not __fish_seen_subcommand_from start poll stop batch status gc doctor profiles generate help" -f -a "gc" -d 'Delete apps whose JupyterHub server no longer exists, and terminally failed apps'
complete -c acactl -n "__fish_acactl_using_subcommand help; and not __fish_seen_subcommand_from start poll stop batch status gc doctor profiles generate help" -f -a "doctor" -d 'Check configuration, credentials, Azure resources and permissions; each check says how to fix it'
complete -c acactl -n "__fish_acactl_using_subcommand help; and not __fish_seen_subcommand_from start poll stop batch status gc doctor profiles generate help" -f -a "profiles" -d 'List the configured profiles (JSON for the exec spawner\'s options form, or a table)'
complete -c acactl -n "__fish_acactl_using_subcommand help; and not __fish_seen_subcommand_from start poll stop batch status gc doctor profiles generate help" -f -a "generate" -d 'Print shell completions or the man page (used to refresh completions/ and man/)'
complete -c acactl -n "__fish_acactl_using_subcommand help; and not __fish_seen_subcommand_from start poll stop batch status gc doctor profiles generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c acactl -n "__fish_acactl_using_subcommand help; and __fish_seen_subcommand_from batch" -f -a "submit" -d 'Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM accepted it'
complete -c acactl -n "__fish_acactl_using_subcommand help; and __fish_seen_subcommand_from batch" -f -a "query" -d 'Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0'
complete -c acactl -n "__fish_acactl_using_subcommand help; and __fish_seen_subcommand_from batch" -f -a "cancel" -d 'Delete the app (idempotent)'
