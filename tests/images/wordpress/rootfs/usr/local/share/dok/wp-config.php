<?php
// Written by the entrypoint from WORDPRESS_DB_* at container start.
require '/etc/wordpress/config-container.php';
define('WP_CONTENT_DIR', '/var/lib/wordpress/wp-content');
if (!defined('ABSPATH')) {
    define('ABSPATH', '/usr/share/wordpress/');
}
require_once ABSPATH . 'wp-settings.php';
