import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.mustangproject.validator.ZUGFeRDValidator;

/**
 * Mustang's validation of every file named, in one JVM (tests/validators/toolkit.py runs it with Java's
 * source-file launcher and the Mustang CLI jar on the class path): what `--action validate --source FILE
 * --no-notices --disable-file-logging` does for one file, with the JVM's start and the rule sets' loading
 * paid once. Arguments: a folder for the reports, then the files; the report of the n-th file (from 0) is
 * written into the folder as n.xml.
 */
public class MustangBatch {
    public static void main(String[] args) throws Exception {
        System.setProperty("FILE_APPENDER_ENABLED", "true"); // what the CLI sets for --disable-file-logging
        Path reports = Path.of(args[0]);
        for (int n = 1; n < args.length; n++) {
            ZUGFeRDValidator validator = new ZUGFeRDValidator(); // one per file, as the CLI: no state carried over
            validator.disableNotices();
            String report = validator.validate(args[n]);
            Files.writeString(reports.resolve((n - 1) + ".xml"), report, StandardCharsets.UTF_8);
        }
    }
}
