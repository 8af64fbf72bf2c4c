
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'acactl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'acactl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'acactl' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Create (or adopt) the user''s container app and wait until the notebook server answers')
            [CompletionResult]::new('poll', 'poll', [CompletionResultType]::ParameterValue, 'Report whether the server''s container app is running (always exits 0 but for usage errors)')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Delete the server''s container app (idempotent)')
            [CompletionResult]::new('batch', 'batch', [CompletionResultType]::ParameterValue, 'batchspawner''s command contract: submit, query and cancel by app name')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'List this hub''s container apps (by ownership tags): user, server, status, URL, image, size, age')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Delete apps whose JupyterHub server no longer exists, and terminally failed apps')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check configuration, credentials, Azure resources and permissions; each check says how to fix it')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the configured profiles (JSON for the exec spawner''s options form, or a table)')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Print shell completions or the man page (used to refresh completions/ and man/)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'acactl;start' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'JupyterHub user name (overrides JUPYTERHUB_USER)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default server)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to report start-up progress on stderr')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the exact ARM request (secrets redacted) and exit; no network, no credentials')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'acactl;poll' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'JupyterHub user name (overrides JUPYTERHUB_USER)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default server)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'acactl;stop' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'JupyterHub user name (overrides JUPYTERHUB_USER)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default server)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'acactl;batch' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('submit', 'submit', [CompletionResultType]::ParameterValue, 'Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM accepted it')
            [CompletionResult]::new('query', 'query', [CompletionResultType]::ParameterValue, 'Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Delete the app (idempotent)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'acactl;batch;submit' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'acactl;batch;query' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'acactl;batch;cancel' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'acactl;batch;help' {
            [CompletionResult]::new('submit', 'submit', [CompletionResultType]::ParameterValue, 'Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM accepted it')
            [CompletionResult]::new('query', 'query', [CompletionResultType]::ParameterValue, 'Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Delete the app (idempotent)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'acactl;batch;help;submit' {
            break
        }
        'acactl;batch;help;query' {
            break
        }
        'acactl;batch;help;cancel' {
            break
        }
        'acactl;batch;help;help' {
            break
        }
        'acactl;status' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only this JupyterHub user''s apps')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Only this named server ("" = the default server)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal, json otherwise)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal, json otherwise)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('--all-hubs', '--all-hubs', [CompletionResultType]::ParameterName, 'Apps of every hub in the resource group (acactl-managed), labelled by hub')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'acactl;gc' {
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'Minimum age of an orphan before it is deleted: 90s, 30m, 2h, 1d or seconds (default: the largest start timeout + hub.http_timeout + 5 minutes)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Deletes in flight at once')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal, json otherwise)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal, json otherwise)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'List what would be deleted and why; delete nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'acactl;doctor' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: a table on a terminal, JSON otherwise)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: a table on a terminal, JSON otherwise)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'acactl;profiles' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: a table on a terminal, JSON otherwise)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: a table on a terminal, JSON otherwise)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only the profiles this hub user may use (overrides JUPYTERHUB_USER; groups from ACACTL_USER_GROUPS)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'List every profile, ignoring JUPYTERHUB_USER')
            [CompletionResult]::new('--selected', '--selected', [CompletionResultType]::ParameterName, 'Also print "selected": the profile, choices and start_timeout (seconds) that `start` would use for the user options in ACACTL_USER_OPTIONS; invalid options are the error `start` would give')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'acactl;generate' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)')
            [CompletionResult]::new('--environment', '--environment', [CompletionResultType]::ParameterName, 'Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'acactl;help' {
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Create (or adopt) the user''s container app and wait until the notebook server answers')
            [CompletionResult]::new('poll', 'poll', [CompletionResultType]::ParameterValue, 'Report whether the server''s container app is running (always exits 0 but for usage errors)')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Delete the server''s container app (idempotent)')
            [CompletionResult]::new('batch', 'batch', [CompletionResultType]::ParameterValue, 'batchspawner''s command contract: submit, query and cancel by app name')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'List this hub''s container apps (by ownership tags): user, server, status, URL, image, size, age')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Delete apps whose JupyterHub server no longer exists, and terminally failed apps')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check configuration, credentials, Azure resources and permissions; each check says how to fix it')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the configured profiles (JSON for the exec spawner''s options form, or a table)')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Print shell completions or the man page (used to refresh completions/ and man/)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'acactl;help;start' {
            break
        }
        'acactl;help;poll' {
            break
        }
        'acactl;help;stop' {
            break
        }
        'acactl;help;batch' {
            [CompletionResult]::new('submit', 'submit', [CompletionResultType]::ParameterValue, 'Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM accepted it')
            [CompletionResult]::new('query', 'query', [CompletionResultType]::ParameterValue, 'Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Delete the app (idempotent)')
            break
        }
        'acactl;help;batch;submit' {
            break
        }
        'acactl;help;batch;query' {
            break
        }
        'acactl;help;batch;cancel' {
            break
        }
        'acactl;help;status' {
            break
        }
        'acactl;help;gc' {
            break
        }
        'acactl;help;doctor' {
            break
        }
        'acactl;help;profiles' {
            break
        }
        'acactl;help;generate' {
            break
        }
        'acactl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
