package prov

import (
	"encoding/hex"
	"errors"
	"testing"
)

// provSample is one provisioning security sample: §8.17.1 (CMAC, identical to
// Mesh Profile 1.0.1 §8.7.8-8.7.12) and §8.17.2 (HMAC).
type provSample struct {
	alg                 Algorithm
	invite, caps, start string
	auth                string
	randP, randD        string
	inputs              string
	confSalt, confKey   string
	confP, confD        string
	provSalt, sessKey   string
	nonce, devKey       string
	encData, mic        string
	netKey              string
	keyIndex            uint16
	flags               uint8
	ivIndex             uint32
	addr                uint16
}

var provSamples = []provSample{{
	alg: AlgCMAC, invite: "00", caps: "0100010000000000000000", start: "0000000000",
	auth:     "00000000000000000000000000000000",
	randP:    "8b19ac31d58b124c946209b5db1021b9",
	randD:    "55a2a2bca04cd32ff6f346bd0a0c1a3a",
	inputs:   "00010001000000000000000000000000002c31a47b5779809ef44cb5eaaf5c3e43d5f8faad4a8794cb987e9b03745c78dd919512183898dfbecd52e2408e43871fd021109117bd3ed4eaf8437743715d4ff465e43ff23d3f1b9dc7dfc04da8758184dbc966204796eccf0d6cf5e16500cc0201d048bcbbd899eeefc424164e33c201c2b010ca6b4d43a8a155cad8ecb279",
	confSalt: "5faabe187337c71cc6c973369dcaa79a", confKey: "e31fe046c68ec339c425fc6629f0336f",
	confP: "b38a114dfdca1fe153bd2c1e0dc46ac2", confD: "eeba521c196b52cc2e37aa40329f554e",
	provSalt: "a21c7d45f201cf9489a2fb57145015b4", sessKey: "c80253af86b33dfa450bbdb2a191fea3",
	nonce: "da7ddbe78b5f62b81d6847487e", devKey: "0520adad5e0142aa3e325087b4ec16d8",
	encData: "d0bd7f4a89a2ff6222af59a90a60ad58acfe3123356f5cec29", mic: "73e0ec50783b10c7",
	netKey: "efb2255e6422d330088e09bb015ed707", keyIndex: 0x567, ivIndex: 0x01020304, addr: 0x0b0c,
}, {
	alg: AlgHMAC, invite: "00", caps: "0100030001000000000000", start: "0100010000",
	auth:     "906d73a3c7a7cb3ff730dca68a46b9c18d673f50e078202311473ebbe253669f",
	randP:    "36f968b94a13000e64b223576390db6bcc6d62f02617c369ee3f5b3e89df7e1f",
	randD:    "5b9b1fc6a64b2de8bece53187ee989c6566db1fc7dc8580a73dafdd6211d56a5",
	inputs:   "00010003000100000000000001000100002c31a47b5779809ef44cb5eaaf5c3e43d5f8faad4a8794cb987e9b03745c78dd919512183898dfbecd52e2408e43871fd021109117bd3ed4eaf8437743715d4ff465e43ff23d3f1b9dc7dfc04da8758184dbc966204796eccf0d6cf5e16500cc0201d048bcbbd899eeefc424164e33c201c2b010ca6b4d43a8a155cad8ecb279",
	confSalt: "a71141ba8cb6b40f4f52b622e1c091614c73fc308f871b78ca775e769bc3ae69",
	confKey:  "210c3c448152e8d59ef742aa7d22ee5ba59a38648bda6bf05c74f3e46fc2c0bb",
	confP:    "c99b54617ae646f5f32cf7e1ea6fcc49fd69066078eba9580fa6c7031833e6c8",
	confD:    "56e3722d291373d38c995d6f942c02928c96abb015c233557d7974b6e2df662b",
	provSalt: "d1cb10ad8d51286067e348fc4b692122", sessKey: "df4a494da3d45405e402f1d6a6cea338",
	nonce: "11b987db2ae41fbb9e96b80446", devKey: "2770852a737cf05d8813768f22af3a2d",
	encData: "f9df98cbb736be1f600659ac4c37821a82db31e410a03de769", mic: "3a2a0428fbdaf321",
	netKey: "efb2255e6422d330088e09bb015ed707", keyIndex: 0x567, ivIndex: 0x01020304, addr: 0x0b0c,
}}

func TestSessionSamples(t *testing.T) {
	for _, s := range provSamples {
		t.Run(s.alg.String(), func(t *testing.T) {
			var inv Invite
			var caps Capabilities
			var start Start
			if _, err := inv.Decode(unhex(t, "00"+s.invite)); err != nil {
				t.Fatal(err)
			}
			if _, err := caps.Decode(unhex(t, "01"+s.caps)); err != nil {
				t.Fatal(err)
			}
			if _, err := start.Decode(unhex(t, "02"+s.start)); err != nil {
				t.Fatal(err)
			}
			pp, dp := [64]byte(unhex(t, sampleProvisionerPub)), [64]byte(unhex(t, sampleDevicePub))
			ci := ConfirmationInputs(&inv, &caps, &start, &pp, &dp)
			check := func(what string, got []byte, want string) {
				t.Helper()
				if hex.EncodeToString(got) != want {
					t.Errorf("%s = %x; want %s", what, got, want)
				}
			}
			check("ConfirmationInputs", ci[:], s.inputs)
			sess := Session{Algorithm: start.Algorithm, Inputs: ci, ECDHSecret: [32]byte(unhex(t, sampleECDH))}
			copy(sess.AuthValue[:], unhex(t, s.auth))
			if err := sess.DeriveConfirmationKey(); err != nil {
				t.Fatal(err)
			}
			n := s.alg.AuthSize()
			check("ConfirmationSalt", sess.ConfirmationSalt[:n], s.confSalt)
			check("ConfirmationKey", sess.ConfirmationKey[:n], s.confKey)
			rp, _ := ValueOf(unhex(t, s.randP))
			rd, _ := ValueOf(unhex(t, s.randD))
			cp, err := sess.Confirm(&rp)
			if err != nil {
				t.Fatal(err)
			}
			cd, _ := sess.Confirm(&rd)
			check("ConfirmationProvisioner", cp.Bytes(), s.confP)
			check("ConfirmationDevice", cd.Bytes(), s.confD)
			if !sess.Verify(&cd, &rd) || sess.Verify(&cd, &rp) {
				t.Error("Verify")
			}
			if err := sess.DeriveSessionKeys(&rp, &rd); err != nil {
				t.Fatal(err)
			}
			check("ProvisioningSalt", sess.ProvisioningSalt[:], s.provSalt)
			check("SessionKey", sess.SessionKey[:], s.sessKey)
			check("SessionNonce", sess.SessionNonce[:], s.nonce)
			check("DeviceKey", sess.DeviceKey[:], s.devKey)
			pd := ProvisioningData{NetKey: [16]byte(unhex(t, s.netKey)), KeyIndex: s.keyIndex, Flags: s.flags, IVIndex: s.ivIndex, UnicastAddress: s.addr}
			data, err := sess.EncryptData(&pd)
			if err != nil {
				t.Fatal(err)
			}
			check("EncryptedProvisioningData", data.Encrypted[:], s.encData)
			check("ProvisioningDataMIC", data.MIC[:], s.mic)
			back, err := sess.DecryptData(&data)
			if err != nil || back != pd {
				t.Errorf("DecryptData: %v %+v", err, back)
			}
			data.MIC[0] ^= 1
			if _, err := sess.DecryptData(&data); !errors.Is(err, ErrDecryption) {
				t.Errorf("corrupted MIC: %v", err)
			}
		})
	}
}

func TestSessionErrors(t *testing.T) {
	s := Session{Algorithm: 7}
	if s.DeriveConfirmationKey() != ErrAlgorithm {
		t.Error("reserved algorithm")
	}
	v := Value{Len: 16}
	if _, err := s.Confirm(&v); err != ErrAlgorithm {
		t.Error("Confirm with reserved algorithm")
	}
	s.Algorithm = AlgHMAC
	if _, err := s.Confirm(&v); err != ErrLength {
		t.Error("16-octet random under HMAC")
	}
	if err := s.DeriveSessionKeys(&v, &v); err != ErrLength {
		t.Error("16-octet randoms under HMAC")
	}
	s.Wipe()
	if s != (Session{}) {
		t.Error("Wipe")
	}
	if _, ok := ValueOf(make([]byte, 17)); ok {
		t.Error("ValueOf 17")
	}
	if AuthNumeric(9, 1) != [32]byte{} {
		t.Error("AuthNumeric with reserved algorithm")
	}
}
