package erphub.ops;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.logging.Level;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import erphub.testing.BesideTheApplication;
import erphub.testing.PackagedApp;
import erphub.testing.TestServers;
import io.restassured.path.json.JsonPath;

/**
 * Route inspection as an operator does it: the packaged jar on the embedded default (sandbox and Hawtio console
 * on), opened in headless Chromium (Debian's chromium and chromedriver, no browser download). The operator adds a
 * connection to erphub's Jolokia agent in Hawtio's Connect page, connects, opens Camel's routes and sees every
 * route that Jolokia reports. The picture is saved as {@code target/hawtio/camel-routes.png}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@BesideTheApplication(seconds = 90)
class BrowserConsolesIT {

    private static final Path CHROMEDRIVER = Path.of(System.getProperty("test.chromedriver", "/usr/bin/chromedriver"));
    private static final Path CHROMIUM = Path.of(System.getProperty("test.chromium", "/usr/bin/chromium"));
    private static final By CONNECTED = By.xpath("//header//div[contains(@class,'toolbar__item')][normalize-space()='erphub']");
    private static final Path SCREENSHOT = Path.of("target/hawtio/camel-routes.png");
    private static final Path DIAGRAM = Path.of("target/hawtio/destination-route-diagram.png");
    private static final Path POLL_DIAGRAM = Path.of("target/hawtio/poll-route-diagram.png");
    private static final Path CONSOLE_PICTURES = Path.of("target/console");

    private PackagedApp app;
    private int jolokia;
    private int console;

    @BeforeAll
    void startTheEmbeddedDefaultWithItsConsole() throws Exception {
        Path work = TestServers.scratchDir("hawtio-");
        Files.createDirectories(work.resolve("config"));
        Files.copy(Path.of("config/tenants.yaml"), work.resolve("config/tenants.yaml"));
        jolokia = TestServers.freePort();
        console = TestServers.freePort();
        Map<String, String> props = new HashMap<>(PackagedApp.SANDBOX_AS_THE_PROFILE_SAYS);
        props.put("erphub.sandbox.sftp-port", String.valueOf(TestServers.freePort()));
        props.put("erphub.jolokia.enabled", "true");
        props.put("quarkus.camel.jolokia.server.port", String.valueOf(jolokia));
        props.put("erphub.console.enabled", "true");
        props.put("erphub.console.port", String.valueOf(console));
        // No SFTP drop server where erphub delivers (a port nothing listens on), so every file's SFTP delivery dies
        // at once: dead letters for the operator console to replay (the ERP API and Kafka deliveries succeed).
        props.put("erphub.destinations.sftp.max-redeliveries", "0");
        app = PackagedApp.start(work, props, Map.of("ERPHUB_SFTP_PORT", String.valueOf(TestServers.freePort())));
        app.awaitReady(Duration.ofSeconds(90));
    }

    @AfterAll
    void stop() {
        if (app != null) {
            app.close();
        }
    }

    /** The console's own origin: the one browser origin Jolokia answers by default. */
    private String consoleOrigin() {
        return "http://localhost:" + console;
    }

    @Test
    void anOperatorSeesErphubsRoutesInHawtioThroughJolokia() throws Exception {
        assertTrue(Files.isExecutable(CHROMEDRIVER) && Files.isExecutable(CHROMIUM), "this test drives Debian's "
                + "chromium through its chromedriver: apt-get install -y chromium chromium-driver (.ci/run does)");
        Set<String> routeIds = routeIdsFromJolokia(jolokia, consoleOrigin());
        assertTrue(routeIds.contains("upstream-payroll-exports"), routeIds.toString());
        assertTrue(app.output().contains("http://localhost:" + console + "/hawtio"), "the banner names the console");

        WebDriver browser = chromium();
        try {
            String base = "http://localhost:" + console + "/hawtio";
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
            browser.get(base + "/connect/remote");
            addConnection(browser, wait, "erphub", jolokia);

            // Connect opens the connection (Hawtio's ?con=<id>) in a window named after it: here the same tab.
            String consoleWindow = browser.getWindowHandle();
            wait.until(ExpectedConditions.elementToBeClickable(
                    By.xpath("//button[normalize-space()='Connect' and not(@disabled)]"))).click();
            wait.until(d -> d.getWindowHandles().size() > 1 || !d.findElements(CONNECTED).isEmpty());
            for (String handle : browser.getWindowHandles()) {
                if (!handle.equals(consoleWindow)) {
                    browser.switchTo().window(handle);
                }
            }
            // The header's connection status: this window now talks to erphub's Jolokia agent.
            wait.until(ExpectedConditions.presenceOfElementLocated(CONNECTED));

            // Camel → the context's routes folder: the table of routes with their state and statistics.
            wait.until(ExpectedConditions.elementToBeClickable(By.xpath("//nav//a[normalize-space()='Camel']")))
                    .click();
            wait.until(ExpectedConditions.elementToBeClickable(
                    By.xpath("//*[@role='tree']//*[normalize-space(text())='routes']"))).click();
            wait.until(d -> routeIds.stream().allMatch(id -> mainText(d).contains(id)));

            String shown = mainText(browser);
            List<String> missing = new ArrayList<>();
            routeIds.forEach(id -> {
                if (!shown.contains(id)) {
                    missing.add(id);
                }
            });
            assertEquals(List.of(), missing, "routes Jolokia reports but Hawtio does not show");
            Files.createDirectories(SCREENSHOT.getParent());
            File png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
            Files.copy(png.toPath(), SCREENSHOT, StandardCopyOption.REPLACE_EXISTING);
            assertTrue(Files.size(SCREENSHOT) > 10_000, "screenshot " + SCREENSHOT);
            // A destination route's diagram: the ERP API's, ending in its Camel HTTP endpoint. Files flow in the
            // sandbox, so it has counted exchanges by now.
            await().atMost(Duration.ofSeconds(60)).until(() -> exchangesOf(jolokia, consoleOrigin(), "erphub-send-erp-api") > 0);
            wait.until(ExpectedConditions.elementToBeClickable(
                    By.xpath("//*[@role='tree']//*[normalize-space(text())='erphub-send-erp-api']"))).click();
            wait.until(ExpectedConditions.elementToBeClickable(
                    By.xpath("//*[normalize-space(text())='Route Diagram']"))).click();
            // Its nodes, the Camel HTTP call (a toD) among them.
            wait.until(d -> d.findElements(By.cssSelector(".react-flow__node")).size() >= 6
                    && mainText(d).contains("To D"));
            File diagram = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
            Files.copy(diagram.toPath(), DIAGRAM, StandardCopyOption.REPLACE_EXISTING);
            assertTrue(Files.size(DIAGRAM) > 10_000, "screenshot " + DIAGRAM);
            // And the route in front of it, the one with the destination's dead letter channel: its queue, the
            // ownership filter, the call of the send route.
            wait.until(ExpectedConditions.elementToBeClickable(
                    By.xpath("//*[@role='tree']//*[normalize-space(text())='erphub-deliver-erp-api']"))).click();
            // Another route opens on its Attributes tab.
            wait.until(ExpectedConditions.elementToBeClickable(
                    By.xpath("//*[normalize-space(text())='Route Diagram']"))).click();
            wait.until(d -> d.findElements(By.cssSelector(".react-flow__node")).size() >= 4
                    && mainText(d).contains("Filter"));
            // And an upstream's poll route, made from kamelet erphub-upstream-source: its tenant split (listing
            // several tenants at a time), the LIST loop in its circuit breaker, the file split below. (Hawtio
            // 4.2 draws a doTry's steps but not its doCatch and doFinally: the Source tab has them.)
            wait.until(ExpectedConditions.elementToBeClickable(
                    By.xpath("//*[@role='tree']//*[normalize-space(text())='upstream-payroll-exports']"))).click();
            wait.until(ExpectedConditions.elementToBeClickable(
                    By.xpath("//*[normalize-space(text())='Route Diagram']"))).click();
            wait.until(d -> d.findElements(By.cssSelector(".react-flow__node")).size() >= 20
                    && mainText(d).contains("Split") && mainText(d).contains("Do Try")
                    && mainText(d).contains("Circuit Breaker"));
            Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(), POLL_DIAGRAM,
                    StandardCopyOption.REPLACE_EXISTING);
            // The data came through the connection to port {jolokia}, not the console's own JVM view.
            assertTrue(browser.getCurrentUrl().startsWith(base), browser.getCurrentUrl());
            assertFalse(String.valueOf(((JavascriptExecutor) browser).executeScript(
                    "return sessionStorage.getItem('connect.currentConnection')")).equals("null"));
        } catch (RuntimeException | AssertionError e) {
            // What the browser showed when it went wrong, next to the expected picture.
            Files.createDirectories(SCREENSHOT.getParent());
            Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(),
                    SCREENSHOT.resolveSibling("failure.png"), StandardCopyOption.REPLACE_EXISTING);
            Files.writeString(SCREENSHOT.resolveSibling("failure.html"), browser.getPageSource());
            Files.write(SCREENSHOT.resolveSibling("failure-console.log"), browser.manage().logs().get(LogType.BROWSER)
                    .getAll().stream().map(LogEntry::toString).toList());
            throw e;
        } finally {
            browser.quit();
        }
    }

    /**
     * The operator console as a support person meets it: signs in at the sandbox's identity provider (the OIDC code
     * flow), finds a file by its name, opens its life, dry-runs and replays its dead SFTP delivery with a comment, and
     * sees the replay in the file's history with the comment and who did it. Each page's picture is saved under
     * {@code target/console/}.
     */
    @Test
    void anOperatorFindsAFileSeesItsLifeAndReplaysItsDeadDelivery() throws Exception {
        DeadLetter dead = firstDeadLetter();
        WebDriver browser = chromium("1280,800");
        try {
            WebDriverWait wait = consoleWait(browser);
            signIn(browser, wait, "admin", "sign-in");
            assertTrue(browser.findElement(By.id("who")).getText().contains("every tenant"));
            wait.until(ExpectedConditions.presenceOfElementLocated(By.id("counts")));
            screenshot(browser, "files");
            // The other pages: dead letters (the SFTP ones), upstreams with their polls, and events as they happen.
            browser.findElement(By.id("nav-dead-letters")).click();
            wait.until(d -> text(d, "dead-letters").contains(dead.name()));
            screenshot(browser, "dead-letters");
            browser.findElement(By.id("nav-upstreams")).click();
            wait.until(d -> text(d, "upstreams").contains("payroll-exports") && text(d, "tenants").contains("acme"));
            screenshot(browser, "upstreams");
            browser.findElement(By.id("nav-live")).click();
            new WebDriverWait(browser, Duration.ofSeconds(60)).until(d -> !rows(d, "live").isEmpty());
            screenshot(browser, "live");
            browser.findElement(By.id("nav-files")).click();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.id("counts")));

            WebElement name = browser.findElement(By.id("name"));
            name.sendKeys(dead.name());
            browser.findElement(By.id("find")).click();
            wait.until(d -> rows(d, "files").size() == 1 && rows(d, "files").get(0).getText().contains(dead.name()));
            screenshot(browser, "found");
            rows(browser, "files").get(0).findElement(By.className("file-name")).click();

            wait.until(ExpectedConditions.presenceOfElementLocated(By.id("history")));
            assertTrue(browser.findElement(By.tagName("h1")).getText().contains(dead.name()));
            assertTrue(text(browser, "deliveries").contains("sftp DEAD"), text(browser, "deliveries"));
            assertFalse(rows(browser, "history").isEmpty());
            assertFalse(browser.findElements(By.id("download")).isEmpty(), "an admin may download the archived bytes");
            screenshot(browser, "file");

            String comment = "supplier resent, SFTP login fixed " + System.nanoTime();
            WebElement form = browser.findElement(By.id("replay-file"));
            new org.openqa.selenium.support.ui.Select(form.findElement(By.name("destination"))).selectByValue("sftp");
            form.findElement(By.name("comment")).sendKeys(comment);
            form.findElement(By.cssSelector("button[value='dry-run']")).click();
            wait.until(d -> d.findElements(By.id("result")).size() == 1);
            assertEquals("Dry run: 1 dead delivery would be replayed", browser.findElement(By.id("result")).getText());
            assertTrue(text(browser, "replayed").contains(dead.fileId() + " sftp"), text(browser, "replayed"));
            screenshot(browser, "dry-run");

            browser.findElement(By.id("replay-now")).click();
            wait.until(d -> d.findElement(By.id("result")).getText().startsWith("Replayed"));
            assertEquals("Replayed 1 dead delivery", browser.findElement(By.id("result")).getText());
            assertEquals("replayed by sandbox-admin: " + comment, browser.findElement(By.id("audit")).getText());
            screenshot(browser, "replayed");

            // The file's history now holds the replay, with who and why.
            browser.get(base() + "/console/files/" + dead.fileId());
            wait.until(ExpectedConditions.presenceOfElementLocated(By.id("history")));
            assertTrue(text(browser, "history").contains("replayed by sandbox-admin: " + comment), text(browser, "history"));
        } catch (RuntimeException | AssertionError e) {
            failure(browser);
            throw e;
        } finally {
            browser.quit();
        }
    }

    /**
     * A tenant's operator sees that tenant's files only: another tenant's file, by its page or by a replay with a
     * valid form, is "not found"; a form without the session's CSRF token is refused, and so is one with a token from
     * another session. Signing out ends the session.
     */
    @Test
    void aTenantsOperatorSeesOnlyItsOwnFilesAndFormsNeedTheirToken() throws Exception {
        DeadLetter foreign = firstDeadLetter("globex");
        firstDeadLetter("acme");
        WebDriver browser = chromium("1280,800");
        try {
            WebDriverWait wait = consoleWait(browser);
            signIn(browser, wait, "acme", "tenant-sign-in");
            assertTrue(browser.findElement(By.id("who")).getText().contains("tenant acme"));
            List<WebElement> shown = rows(browser, "files");
            assertFalse(shown.isEmpty());
            shown.forEach(row -> assertTrue(row.getText().contains(" acme "), row.getText()));
            assertTrue(browser.findElements(By.name("tenant")).isEmpty(), "no tenant filter for a tenant's operator");

            browser.get(base() + "/console/files/" + foreign.fileId());
            wait.until(ExpectedConditions.presenceOfElementLocated(By.id("problem")));
            assertEquals("404 Not found", browser.findElement(By.id("problem")).getText());
            assertFalse(browser.getPageSource().contains(foreign.name()));
            screenshot(browser, "other-tenant");

            String token = browser.findElement(By.name("csrf")).getAttribute("value");
            assertEquals(404, post(browser, "csrf=" + token + "&mode=replay&fileId=" + foreign.fileId()
                    + "&comment=not+mine"), "another tenant's file, with a valid form");
            assertEquals(403, post(browser, "mode=replay&fileId=" + foreign.fileId() + "&comment=no+token"));
            String adminsToken = signedInToken("admin");
            assertEquals(403, post(browser, "csrf=" + adminsToken + "&mode=replay&tenant=acme&comment=stolen+token"),
                    "a token of another session");
            assertEquals(403, post(browser, "csrf=" + token.substring(1) + "&mode=dry-run&tenant=acme&comment=x"));
            assertEquals(200, post(browser, "csrf=" + token + "&mode=dry-run&tenant=acme&comment=x"), "its own token");

            // Signing out ends the session: the console asks for a sign-in again.
            browser.get(base() + "/console/files");
            wait.until(ExpectedConditions.elementToBeClickable(By.id("sign-out"))).click();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.id("signed-out")));
            browser.get(base() + "/console/files");
            wait.until(ExpectedConditions.elementToBeClickable(By.id("sign-in")));
            assertTrue(browser.getCurrentUrl().startsWith(base() + "/sandbox/oauth2/authorize?"), browser.getCurrentUrl());
        } catch (RuntimeException | AssertionError e) {
            failure(browser);
            throw e;
        } finally {
            browser.quit();
        }
    }

    /**
     * The sandbox's sign-in is an identity provider's authorization endpoint reachable by any page on this machine:
     * it signs in to erphub's console only (its client, a redirect back to this server's /console), and a code is
     * good once, with the client's secret, for the redirect it was issued for.
     */
    @Test
    void theSandboxSignInRefusesForeignRedirectsClientsAndReusedCodes() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String console = base() + "/console/files";
        for (String redirect : List.of("http://evil.example/console", base() + "/api/files", base() + "/sandbox/x",
                "http://localhost:1/console", base().replace("http:", "https:") + "/console",
                "http://localhost@evil.example:" + app.url("").replaceAll(".*:", "") + "/console", "javascript:alert(1)")) {
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base()
                    + "/sandbox/oauth2/authorize?response_type=code&client_id=erphub-console&redirect_uri="
                    + enc(redirect) + "&state=s")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, page.statusCode(), redirect);
            assertEquals(400, signIn(http, "erphub-console", redirect, "admin").statusCode(), redirect);
        }
        assertEquals(400, signIn(http, "someone-else", console, "admin").statusCode());
        assertEquals(400, signIn(http, "erphub-console", console, "root").statusCode());
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base()
                + "/sandbox/oauth2/authorize?response_type=code&client_id=erphub-console&redirect_uri=" + enc(console)
                + "&state=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode());
        assertFalse(page.body().contains("<script>"), "the state is escaped in the page");

        String location = signIn(http, "erphub-console", console, "acme").headers().firstValue("Location").orElseThrow();
        assertTrue(location.startsWith(console + "?code="), location);
        String code = java.net.URLDecoder.decode(location.replaceAll(".*code=([^&]*).*", "$1"), StandardCharsets.UTF_8);
        assertEquals(401, codeGrant(http, code, console, "wrong-secret").statusCode());
        HttpResponse<String> tokens = codeGrant(http, code, console, null);
        assertEquals(200, tokens.statusCode(), tokens.body());
        assertTrue(tokens.body().contains("\"id_token\""));
        assertEquals(400, codeGrant(http, code, console, null).statusCode(), "a code is good once");
        String another = signIn(http, "erphub-console", console, "acme").headers().firstValue("Location").orElseThrow();
        String second = java.net.URLDecoder.decode(another.replaceAll(".*code=([^&]*).*", "$1"), StandardCharsets.UTF_8);
        assertEquals(400, codeGrant(http, second, console + "/other", null).statusCode(), "for another redirect");
        assertEquals(400, codeGrant(http, second, console, null).statusCode(), "a code tried with another redirect is spent");
    }

    private HttpResponse<String> signIn(HttpClient http, String client, String redirect, String user) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base() + "/sandbox/oauth2/authorize"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("client_id=" + enc(client) + "&redirect_uri=" + enc(redirect)
                        + "&state=s&user=" + enc(user))).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The console client's code grant; the secret is the embedded default's sandbox value unless given. */
    private HttpResponse<String> codeGrant(HttpClient http, String code, String redirect, String secret) throws Exception {
        String clientSecret = secret != null ? secret : "sandbox-erphub-console-not-a-secret-0123456789";
        return http.send(HttpRequest.newBuilder(URI.create(base() + "/sandbox/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=authorization_code&client_id=erphub-console"
                        + "&client_secret=" + enc(clientSecret) + "&code=" + enc(code) + "&redirect_uri=" + enc(redirect)))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String enc(String value) {
        return java.net.URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private record DeadLetter(long fileId, String name) {
    }

    private String base() {
        // The name the banner prints; the sandbox's sign-in also takes 127.0.0.1.
        return app.url("").replace("127.0.0.1", "localhost");
    }

    /** The oldest dead delivery (of the tenant, if given), once the SFTP deliveries have died, through the API. */
    private DeadLetter firstDeadLetter(String... tenant) throws Exception {
        String query = tenant.length == 0 ? "" : "&tenant=" + tenant[0];
        String admin = new JsonPath(HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(base() + "/sandbox/oauth2/api-token")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString()).body()).getString("access_token");
        JsonPath[] page = new JsonPath[1];
        await().atMost(Duration.ofSeconds(90)).until(() -> {
            page[0] = new JsonPath(HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(base() + "/api/dead-letters?destination=sftp&limit=1" + query))
                    .header("Authorization", "Bearer " + admin).build(), HttpResponse.BodyHandlers.ofString()).body());
            return !page[0].getList("items").isEmpty();
        });
        return new DeadLetter(page[0].getLong("items[0].fileId"), page[0].getString("items[0].fileName"));
    }

    /** Opens the console, signs in at the sandbox's identity provider as the user, and lands on the files page. */
    private void signIn(WebDriver browser, WebDriverWait wait, String user, String picture) throws Exception {
        browser.get(base() + "/console");
        wait.until(ExpectedConditions.elementToBeClickable(By.id("sign-in")));
        assertTrue(browser.getCurrentUrl().startsWith(base() + "/sandbox/oauth2/authorize?"), browser.getCurrentUrl());
        browser.findElement(By.cssSelector("input[name='user'][value='" + user + "']")).click();
        screenshot(browser, picture);
        browser.findElement(By.id("sign-in")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("files")));
        assertEquals(base() + "/console/files", browser.getCurrentUrl());
    }

    /** htmx swaps a page's body in place: an element read while it does so is looked up again. */
    private static WebDriverWait consoleWait(WebDriver browser) {
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        return wait;
    }

    /** Another session's CSRF token: what a page signed in as someone else carries. */
    private String signedInToken(String user) throws Exception {
        WebDriver other = chromium("1280,800");
        try {
            signIn(other, consoleWait(other), user, "other-session");
            return other.findElement(By.name("csrf")).getAttribute("value");
        } finally {
            other.quit();
        }
    }

    /** A replay form posted from the signed-in page by script (its cookies, any fields): the answer's status. */
    private static int post(WebDriver browser, String form) {
        Object status = ((JavascriptExecutor) browser).executeAsyncScript("var done = arguments[arguments.length - 1];"
                + "fetch('/console/replays', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},"
                + " body: arguments[0], redirect: 'manual'}).then(r => done(r.status), e => done(-1));", form);
        return ((Number) status).intValue();
    }

    private static List<WebElement> rows(WebDriver browser, String table) {
        return browser.findElements(By.cssSelector("#" + table + " tbody tr")).stream()
                .filter(r -> r.findElements(By.cssSelector("td[colspan]")).isEmpty()).toList();
    }

    private static String text(WebDriver browser, String id) {
        return browser.findElement(By.id(id)).getText();
    }

    private static void screenshot(WebDriver browser, String name) throws Exception {
        Path png = CONSOLE_PICTURES.resolve(name + ".png");
        Files.createDirectories(png.getParent());
        Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(), png,
                StandardCopyOption.REPLACE_EXISTING);
        assertTrue(Files.size(png) > 5_000, "screenshot " + png);
    }

    private static void failure(WebDriver browser) {
        try {
            screenshot(browser, "failure");
            Files.writeString(CONSOLE_PICTURES.resolve("failure.html"), browser.getPageSource());
        } catch (Exception | AssertionError e) {
            // the test's own failure is what matters
        }
    }

    static final String STOP_ROUTE = "{\"type\":\"exec\",\"mbean\":\"org.apache.camel:context=erphub,type=routes,"
            + "name=\\\"upstream-payroll-exports\\\"\",\"operation\":\"stop()\"}";

    /**
     * Requests a web page, a script or a careless operator could send to the two Jolokia agents (erphub's on its own
     * port, the console's at /hawtio/jolokia) and through the console's proxy: every one is refused, and the route a
     * page tried to stop is still running. Columns: where, Origin, Referer (- for none), body.
     */
    @ParameterizedTest(name = "{0} Origin={1} Referer={2}: {3}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "agent   | http://evil.example                 | -                          | STOP",
            "agent   | null                                | -                          | STOP",
            "agent   | -                                   | -                          | STOP",
            "agent   | -                                   | http://evil.example/page   | STOP",
            "agent   | CONSOLE.evil.example                | -                          | STOP",
            "agent   | https://localhost:CONSOLE_PORT      | -                          | STOP",
            "agent   | CONSOLE                             | -                          | {\"type\":\"exec\",\"mbean\":\"com.sun.management:type=DiagnosticCommand\",\"operation\":\"vmSystemProperties()\"}",
            "agent   | CONSOLE                             | -                          | {\"type\":\"exec\",\"mbean\":\"com.sun.management:type=DiagnosticCommand\",\"operation\":\"jvmtiAgentLoad(java.lang.String)\",\"arguments\":[\"/tmp/x.so\"]}",
            "agent   | CONSOLE                             | -                          | {\"type\":\"exec\",\"mbean\":\"com.sun.management:type=HotSpotDiagnostic\",\"operation\":\"dumpHeap\",\"arguments\":[\"/tmp/heap.hprof\",true]}",
            "agent   | CONSOLE                             | -                          | {\"type\":\"write\",\"mbean\":\"java.lang:type=Memory\",\"attribute\":\"Verbose\",\"value\":true}",
            "agent   | CONSOLE                             | -                          | {\"type\":\"exec\",\"mbean\":\"java.lang:type=Memory\",\"operation\":\"gc\"}",
            "agent   | CONSOLE                             | -                          | {\"type\":\"exec\",\"mbean\":\"jdk.management.jfr:type=FlightRecorder\",\"operation\":\"newRecording\"}",
            "console | http://evil.example                 | -                          | STOP",
            "console | -                                   | -                          | STOP",
            "console | CONSOLE                             | -                          | {\"type\":\"exec\",\"mbean\":\"com.sun.management:type=DiagnosticCommand\",\"operation\":\"vmSetFlag(java.lang.String[])\",\"arguments\":[[\"PrintGC\",\"true\"]]}",
            "console | CONSOLE                             | -                          | {\"type\":\"exec\",\"mbean\":\"com.sun.management:type=DiagnosticCommand\",\"operation\":\"jvmtiAgentLoad(java.lang.String)\",\"arguments\":[\"/tmp/x.so\"]}",
            "console | CONSOLE                             | -                          | {\"type\":\"exec\",\"mbean\":\"hawtio:type=JVMList\",\"operation\":\"startAgent\",\"arguments\":[\"1\"]}",
            "proxy   | http://evil.example                 | -                          | STOP",
            "proxy   | -                                   | -                          | STOP",
    })
    void aForeignPageOrADiagnosticCommandIsRefusedByEveryJolokiaAgent(String where, String origin, String referer,
            String body) throws Exception {
        HttpResponse<String> answer = jolokia(where, origin.replace("CONSOLE_PORT", String.valueOf(console))
                .replace("CONSOLE", consoleOrigin()), referer, body.equals("STOP") ? STOP_ROUTE : body);
        boolean refused = answer.statusCode() == 403 || answer.body().contains("\"status\":403");
        assertTrue(refused, where + " answered " + answer.statusCode() + ": " + answer.body());
        assertFalse(answer.headers().firstValue("Access-Control-Allow-Origin").filter(o -> !o.equals(consoleOrigin()))
                .isPresent(), "no foreign origin is allowed to read the answer: " + answer.headers().map());
        assertEquals("Started", routeState(), "the route a page tried to stop still runs");
    }

    @Test
    void theConsolesOwnOriginReadsCamelAndTheJvmThroughBothAgents() throws Exception {
        HttpResponse<String> routes = jolokia("agent", consoleOrigin(), "-", "{\"type\":\"read\",\"mbean\":"
                + "\"org.apache.camel:context=erphub,type=routes,name=*\",\"attribute\":\"State\"}");
        assertEquals(200, routes.statusCode(), routes.body());
        assertTrue(routes.body().contains("\"status\":200"), routes.body());
        assertEquals(consoleOrigin(), routes.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        HttpResponse<String> heap = jolokia("console", consoleOrigin(), "-",
                "{\"type\":\"read\",\"mbean\":\"java.lang:type=Memory\",\"attribute\":\"HeapMemoryUsage\"}");
        assertTrue(heap.body().contains("\"status\":200") && heap.body().contains("\"used\""), heap.body());
        HttpResponse<String> proxied = jolokia("proxy", consoleOrigin(), "-", "{\"type\":\"version\"}");
        assertTrue(proxied.body().contains("\"status\":200"), proxied.body());
    }

    private String routeState() throws Exception {
        String body = jolokia("agent", consoleOrigin(), "-", "{\"type\":\"read\",\"mbean\":\"org.apache.camel:"
                + "context=erphub,type=routes,name=\\\"upstream-payroll-exports\\\"\",\"attribute\":\"State\"}").body();
        return new JsonPath(body).getString("value");
    }

    /** A POST to one of the agents: erphub's (agent), the console's own (console), or erphub's through the console's proxy. */
    private HttpResponse<String> jolokia(String where, String origin, String referer, String body) throws Exception {
        String url = switch (where) {
            case "agent" -> "http://127.0.0.1:" + jolokia + "/jolokia/";
            case "console" -> "http://127.0.0.1:" + console + "/hawtio/jolokia/";
            case "proxy" -> "http://127.0.0.1:" + console + "/hawtio/proxy/http/127.0.0.1/" + jolokia + "/jolokia/";
            default -> throw new IllegalArgumentException(where);
        };
        // text/plain: what a page's form or fetch can send without a CORS preflight.
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (!origin.equals("-")) {
            request.header("Origin", origin);
        }
        if (!referer.equals("-")) {
            request.header("Referer", referer);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void addConnection(WebDriver browser, WebDriverWait wait, String name, int port) {
        wait.until(ExpectedConditions.elementToBeClickable(
                By.xpath("//button[contains(normalize-space(), 'Add connection')]"))).click();
        type(wait, "connection-form-name", name);
        WebElement scheme = wait.until(ExpectedConditions.presenceOfElementLocated(By.id("connection-form-scheme")));
        if (scheme.isSelected()) {
            // The form starts on HTTPS; the embedded Jolokia agent speaks plain HTTP on loopback.
            ((JavascriptExecutor) browser).executeScript("arguments[0].click()", scheme);
        }
        type(wait, "connection-form-host", "127.0.0.1");
        type(wait, "connection-form-port", String.valueOf(port));
        type(wait, "connection-form-path", "/jolokia/");
        wait.until(ExpectedConditions.elementToBeClickable(
                By.xpath("//footer//button[normalize-space()='Add'] | //div[contains(@class,'modal')]//button[normalize-space()='Add']")))
                .click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.xpath("//*[normalize-space(text())='" + name + "']")));
    }

    private static void type(WebDriverWait wait, String id, String value) {
        WebElement input = wait.until(ExpectedConditions.elementToBeClickable(By.id(id)));
        input.sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.BACK_SPACE);
        input.sendKeys(value);
    }

    private static String mainText(WebDriver browser) {
        return browser.findElements(By.tagName("main")).stream().map(WebElement::getText).reduce("", String::concat);
    }

    /** Chromium for Hawtio (a large window, as its tree and diagrams want). */
    private static WebDriver chromium() {
        return chromium("1440,1000");
    }

    /** Chromium with the window size, e.g. 1280,800 (a laptop, what the operator console must fit). */
    private static WebDriver chromium(String size) {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=" + size);
        // The page's console, written next to the screenshot when the test fails.
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    /** The route ids erphub's Jolokia agent reports: what the page must show. */
    /** Exchanges the route has completed, as its MBean counts them (read through Jolokia). */
    private static long exchangesOf(int port, String origin, String routeId) throws Exception {
        HttpRequest read = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/jolokia/"))
                .header("Content-Type", "application/json").header("Origin", origin)
                .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"read\",\"mbean\":\"org.apache.camel:context=erphub,"
                        + "type=routes,name=\\\"" + routeId + "\\\"\",\"attribute\":\"ExchangesCompleted\"}"))
                .build();
        HttpResponse<String> response = HttpClient.newHttpClient().send(read, HttpResponse.BodyHandlers.ofString());
        Object value = new JsonPath(response.body()).get("value");
        return value instanceof Number n ? n.longValue() : 0;
    }

    private static Set<String> routeIdsFromJolokia(int port, String origin) throws Exception {
        HttpRequest read = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/jolokia/"))
                .header("Content-Type", "application/json").header("Origin", origin)
                .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"read\",\"mbean\":\"org.apache.camel:context=erphub,"
                        + "type=routes,name=*\",\"attribute\":\"RouteId\"}"))
                .build();
        Set<String> ids = new TreeSet<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            HttpResponse<String> response = HttpClient.newHttpClient().send(read, HttpResponse.BodyHandlers.ofString());
            Map<String, Map<String, String>> value = new JsonPath(response.body()).getMap("value");
            ids.clear();
            value.values().forEach(attributes -> ids.add(attributes.get("RouteId")));
            return ids.size() > 5;
        });
        return ids;
    }
}
