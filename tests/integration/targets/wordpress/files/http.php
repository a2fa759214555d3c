<?php
// HTTP client for the wordpress target, run inside the cluster: the host cannot reach Service addresses.
// php http.php URL [FORM-URLENCODED-BODY]   GET, or POST when a body is given; prints {"status": N, "body": "..."}
$options = ['http' => ['ignore_errors' => true, 'timeout' => 120]];
if ($argc > 2) {
    $options['http']['method'] = 'POST';
    $options['http']['header'] = "Content-Type: application/x-www-form-urlencoded\r\n";
    $options['http']['content'] = $argv[2];
}
$body = @file_get_contents($argv[1], false, stream_context_create($options));
if ($body === false) {
    fwrite(STDERR, "no HTTP answer from {$argv[1]}\n");
    exit(2);
}
$status = 0;
foreach ($http_response_header as $line) {
    if (preg_match('{^HTTP/\S+\s+(\d{3})}', $line, $match)) {
        $status = (int) $match[1];
    }
}
echo json_encode(['status' => $status, 'body' => $body]), "\n";
