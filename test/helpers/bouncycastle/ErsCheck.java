import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.Security;
import java.util.Date;

import org.bouncycastle.asn1.tsp.ArchiveTimeStamp;
import org.bouncycastle.asn1.tsp.ArchiveTimeStampChain;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.ers.ERSArchiveTimeStamp;
import org.bouncycastle.tsp.ers.ERSByteData;
import org.bouncycastle.tsp.ers.ERSEvidenceRecord;

/**
 * An independent RFC 4998 validator for the tests (issue 23): BouncyCastle's ERS classes read an
 * evidence record, check every timestamp renewal inside each chain (ERSEvidenceRecord's
 * constructor), check that the current chain covers the data object and the chains before it
 * (validatePresent), and verify each ArchiveTimeStamp's token signature with the certificate it
 * carries. Usage: java ErsCheck RECORD.ers DATA EPOCH_MILLIS — prints "VALID n" or "INVALID why".
 * The TSA chain to a root is our verifiers' part; BouncyCastle's ERS classes do not judge it.
 */
public class ErsCheck {
  public static void main(String[] args) throws Exception {
    Security.addProvider(new BouncyCastleProvider());
    byte[] record = Files.readAllBytes(Paths.get(args[0]));
    byte[] data = Files.readAllBytes(Paths.get(args[1]));
    Date at = new Date(Long.parseLong(args[2]));
    DigestCalculatorProvider digests =
        new JcaDigestCalculatorProviderBuilder().setProvider("BC").build();
    try {
      ERSEvidenceRecord er = new ERSEvidenceRecord(record, digests);
      er.validatePresent(new ERSByteData(data), at);
      int n = 0;
      for (ArchiveTimeStampChain chain :
          er.toASN1Structure().getArchiveTimeStampSequence().getArchiveTimeStampChains()) {
        for (ArchiveTimeStamp ats : chain.getArchiveTimestamps()) {
          ERSArchiveTimeStamp one = new ERSArchiveTimeStamp(ats, digests);
          one.validate(
              new JcaSimpleSignerInfoVerifierBuilder()
                  .setProvider("BC")
                  .build(one.getSigningCertificate()));
          n++;
        }
      }
      System.out.println("VALID " + n);
    } catch (Exception e) {
      System.out.println("INVALID " + e);
    }
  }
}
